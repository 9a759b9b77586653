"""An auto-selected copy-trading simulation end to end, on the dbt benchmark's warehouse.

    .venv/bin/python benchmarks/bench_auto_simulation.py [--select-days 30] [--count 10] [--variants 100]

Needs the data benchmarks/bench_dbt.py prepared and built (.local/bench-dbt: 4,000 traders x
91 days of the dev chain, ~1.08M normalized events). Starts that warehouse, then per venue:
auto selection of ``--count`` leaders from the first ``--select-days`` days only, loading their
events and every trade price of their markets over the rest of the history, and one replay
of ``--variants`` settings variants (a grid of stop loss x ratio); prints and writes the
time of each stage to benchmarks/results/auto_simulation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg

from copytrade.config import plain_pg_url
from copytrade.services.stack import Stack
from copytrade.simulation.data import load_inputs
from copytrade.simulation.research import expand_grid
from copytrade.simulation.results import rank, simulate
from copytrade.simulation.selection import SelectionCriteria, select_leaders
from copytrade.simulation.settings import CopySettings

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / ".local" / "bench-dbt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--select-days", type=float, default=30)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--variants", type=int, default=100)
    args = parser.parse_args()
    prepared = HOME / "prepared.json"
    if not prepared.exists():
        raise SystemExit("run benchmarks/bench_dbt.py first (it prepares and builds the warehouse used here)")
    ports = json.loads(prepared.read_text())["ports"]
    for key in ("DATABASE_URL", "DAGSTER_PG_URL", "REDIS_URL"):
        os.environ.pop(key, None)
    os.environ.update(COPYTRADE_HOME=str(HOME), COPYTRADE_PG_PORT=str(ports["pg"]),
                      COPYTRADE_REDIS_PORT=str(ports["redis"]), COPYTRADE_PG_DURABLE="false")
    stack = Stack.from_env()
    stack.up(dagster=False)
    stages: dict[str, float] = {}
    out: dict = {}
    try:
        with psycopg.connect(plain_pg_url(stack.endpoints.database_url), autocommit=True) as conn:
            first, last, traders, events = conn.execute(
                "select min(block_time), max(block_time), count(distinct trader), count(*)"
                " from analytics.perp_trading_event_log"
            ).fetchone()
            start = first + timedelta(days=args.select_days)
            end = last + timedelta(seconds=1)
            criteria = SelectionCriteria(lookback_days=args.select_days, count=args.count, min_trades=10)
            steps = max(1, args.variants // 10)
            grid = expand_grid(CopySettings(sizing="fixed", initial_capital_usd=50_000),
                               {"stop_loss_pct": (10, 100, 10), "fixed_collateral_usd": (250, 250 * steps, 250)})
            total = time.perf_counter()
            for platform in ("gmx", "gtrade", "synthetix"):
                t0 = time.perf_counter()
                leaders = select_leaders(conn, platform, start, criteria)
                stages[f"{platform}: select {len(leaders)} of the platform's traders"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                ev, prices = load_inputs(conn, leaders, start, end, platform=platform)
                stages[f"{platform}: load {len(ev):,} leader events + {len(prices):,} prices"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                plans = rank(simulate(ev, prices, grid, end_time=int(end.timestamp())))
                stages[f"{platform}: replay {len(grid)} variants"] = time.perf_counter() - t0
                best = plans[0].metrics
                out[platform] = {"leaders": len(leaders), "events": len(ev), "best_net_pnl": round(best.net_pnl, 2),
                                 "best_max_drawdown_usd": round(best.max_drawdown_usd, 2)}
            stages["total"] = time.perf_counter() - total
    finally:
        stack.down()
    result = {
        "command": "benchmarks/bench_auto_simulation.py "
                   f"--select-days {args.select_days:g} --count {args.count} --variants {args.variants}",
        "warehouse": {"traders": traders, "events": events, "days": round((last - first).total_seconds() / 86400, 1)},
        "window_days": round((end - start).total_seconds() / 86400, 1),
        "seconds": {k: round(v, 2) for k, v in stages.items()},
        "platforms": out,
    }
    (ROOT / "benchmarks" / "results" / "auto_simulation.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
