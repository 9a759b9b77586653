"""Full backfill of a large dev chain through Dagster, and eth_getLogs calls vs a fixed range.

    .venv/bin/python benchmarks/bench_backfill.py --traders 2000 --days 90

Brings up its own PostgreSQL + Dagster instance (temporary home, free ports), seeds the dev
chain, then materializes every raw-logs partition in-process (what `copytrade backfill`
does) and reports logs/s. Then fetches the same contracts and ranges again without writing,
once with the adaptive client and once with a fixed 4,000-block range, and compares the
eth_getLogs calls and seconds. Writes benchmarks/results/backfill.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from copytrade.chain.rpc import RpcClient
from copytrade.devchain.chain import DevChain, ScenarioParams
from copytrade.services.process import free_port
from copytrade.services.stack import Stack

FIXED_SPAN = 4_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traders", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    root = Path(__file__).resolve().parents[1]
    home = Path(tempfile.mkdtemp(prefix="bench-backfill-", dir=root / ".local"))
    home.chmod(0o711)
    for key in ("DATABASE_URL", "DAGSTER_PG_URL", "REDIS_URL"):
        os.environ.pop(key, None)
    os.environ.update(COPYTRADE_HOME=str(home), COPYTRADE_PG_PORT=str(free_port()),
                      COPYTRADE_REDIS_PORT=str(free_port()), COPYTRADE_PG_DURABLE="false", DO_NOT_TRACK="1")
    stack = Stack.from_env()
    chain = DevChain(home, free_port())
    try:
        stack.up()
        os.environ.update(stack.endpoints.environ())
        chain.up()
        t0 = time.perf_counter()
        manifest = chain.seed(ScenarioParams(args.traders, args.days, args.seed))
        seed_seconds = time.perf_counter() - t0

        from orchestration import backfill as bf
        from copytrade.venues.registry import load_registry

        registry = load_registry(home)
        planned = bf.plan(registry, None, None, None, [])
        t0 = time.perf_counter()
        with Progress(TextColumn("backfill"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[logs]:,} logs"), TimeElapsedColumn()) as bar:
            task = bar.add_task("backfill", total=len(planned), logs=0)
            seen = {"logs": 0}

            def advance(part, meta):
                seen["logs"] += meta["logs"]
                bar.update(task, advance=1, logs=seen["logs"])

            report = bf.run(planned, on_partition=advance)
        backfill_seconds = time.perf_counter() - t0
        assert not report.failures, report.failures

        url = chain.info().url
        fetch = {}
        for label, kwargs in (("adaptive", {}), ("fixed_4000", {"initial_span": FIXED_SPAN, "max_span": FIXED_SPAN})):
            with RpcClient(url, use_finalized_tag=False, **kwargs) as client:
                head = client.block_number()
                t0 = time.perf_counter()
                logs = 0
                for part in planned:
                    span = part.rng.clamp(part.row, head)
                    logs += len(client.get_logs(part.row.address, *span))
                fetch[label] = {"get_logs_calls": client.stats.get_logs_calls, "seconds": round(time.perf_counter() - t0, 2), "logs": logs}
    finally:
        chain.down()
        stack.down()
        shutil.rmtree(home, ignore_errors=True)

    result = {
        "command": f"benchmarks/bench_backfill.py --traders {args.traders} --days {args.days} --seed {args.seed}",
        "seed_seconds": round(seed_seconds, 1),
        "emitted_logs": manifest["emitted"]["logs"],
        "partitions": report.partitions,
        "ingested_logs": report.logs,
        "quarantined": report.quarantined,
        "backfill_seconds": round(backfill_seconds, 1),
        "backfill_logs_per_second": round(report.logs / backfill_seconds),
        "backfill_get_logs_calls": report.get_logs_calls,
        "fetch_only": fetch,
        "get_logs_calls_vs_fixed_4000": round(fetch["fixed_4000"]["get_logs_calls"] / max(fetch["adaptive"]["get_logs_calls"], 1), 1),
    }
    out = Path(__file__).parent / "results" / "backfill.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    for key, value in result.items():
        print(f"{key:>30}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
