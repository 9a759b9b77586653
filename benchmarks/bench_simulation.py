"""Replay speed: (leader event x settings variant) per second, engine against the reference.

    .venv/bin/python benchmarks/bench_simulation.py [--events 200000] [--reference-events 20000]

A synthetic history (100 leaders, 5 markets, GBM prices; positions opened, partially
decreased and closed; every trade price is also a mark) is replayed by:

* the plain per-event Python reference (tests/simulation/reference.py), one variant, on a
  prefix of ``--reference-events`` events (it is slow), scaled per event;
* the compiled engine at 1 variant and at 1,000 variants (a grid over ratio, stop loss,
  take profit and slippage), after a warm-up that compiles (or loads the cached) kernel.

Goals (issue 6): at 1,000 variants >= 20M event-variants/s and >= 100x the reference loop;
at 1 variant no slower than the reference. Writes benchmarks/results/simulation.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from copytrade.simulation.engine import Variants, replay
from copytrade.simulation.events import CLOSE, DECREASE, OPEN, LeaderEvents, PriceSeries
from copytrade.simulation.settings import CopySettings
from tests.simulation.reference import run_reference


def synthetic_history(n_events: int, leaders: int = 100, markets: int = 5, seed: int = 7) -> LeaderEvents:
    """Positions of 1 OPEN, 0-2 DECREASEs and a CLOSE, interleaved in time."""
    rng = np.random.default_rng(seed)
    n_positions = n_events // 3
    shape = rng.integers(0, 3, n_positions)  # decreases per position
    per = 2 + shape
    total = int(per.sum())
    position = np.repeat(np.arange(n_positions), per)
    step = np.concatenate([np.arange(k) for k in per])
    opened = np.sort(rng.integers(0, 90 * 86_400, n_positions))
    gaps = np.where(step > 0, rng.integers(60, 86_400, total), 0)
    elapsed = np.cumsum(gaps)
    starts = np.concatenate([[0], np.cumsum(per)[:-1]])
    time_ = opened[position] + elapsed - elapsed[starts][position]
    market = rng.integers(0, markets, n_positions)[position]
    order = np.lexsort((step, time_))
    position, step, time_, market = position[order], step[order], time_[order], market[order]
    last = step == per[position] - 1
    action = np.where(step == 0, OPEN, np.where(last, CLOSE, DECREASE)).astype(np.int8)
    # prices: a GBM per market sampled at the event times
    base = np.array([60_000, 3_000, 150, 0.6, 25.0])[:markets]
    steps = rng.normal(0, 0.003, total)
    price = np.empty(total)
    for m in range(markets):
        at = market == m
        price[at] = base[m] * np.exp(np.cumsum(steps[at]))
    size0 = rng.uniform(1_000, 100_000, n_positions)
    size_after = np.empty(total)
    size_delta = np.empty(total)
    remaining = size0.copy()
    for i in range(total):  # sizes need the running position; plain loop, setup only
        p = position[i]
        if action[i] == OPEN:
            size_delta[i] = size_after[i] = remaining[p]
        elif action[i] == DECREASE:
            size_delta[i] = remaining[p] * 0.4
            remaining[p] -= size_delta[i]
            size_after[i] = remaining[p]
        else:
            size_delta[i] = remaining[p]
            size_after[i] = 0.0
    lev = rng.uniform(2, 20, n_positions)[position]
    leader = rng.integers(0, leaders, n_positions)[position]
    return LeaderEvents(
        time=time_.astype(np.int64), leader=leader.astype(np.int32), position=position.astype(np.int32),
        market=market.astype(np.int32), platform=np.zeros(total, np.int32),
        is_long=rng.random(n_positions)[position] < 0.5, action=action, size_delta=size_delta,
        size_after=size_after, collateral_after=size_after / lev, price=price, fee=size_delta * 1e-3,
        funding=np.zeros(total), realized_pnl=np.zeros(total),
        leaders=[f"0x{i:040x}" for i in range(leaders)], markets=[f"M{i}/USD" for i in range(markets)],
        platforms=["gmx"], leader_baseline=np.full(leaders, 1_000.0),
    )


def prefix(events: LeaderEvents, n: int) -> LeaderEvents:
    """The first n events, with positions still opened inside the prefix only."""
    keep = np.arange(len(events)) < n
    fields = {k: v[keep] if isinstance(v, np.ndarray) and len(v) == len(events) else v
              for k, v in events.__dict__.items()}
    return LeaderEvents(**fields)


def grid(n: int) -> list[CopySettings]:
    out = []
    for i in range(n):
        out.append(CopySettings(
            ratio=0.1 + (i % 10) * 0.2, stop_loss_pct=None if i % 5 == 0 else 5.0 * (i % 5 + 1),
            take_profit_pct=None if (i // 5) % 4 == 0 else 25.0 * ((i // 5) % 4), slippage_bps=(i // 20) % 10,
            initial_capital_usd=1e9,
        ))
    return out


def engine_rate(events: LeaderEvents, prices: PriceSeries, settings: list[CopySettings], repeat: int = 3) -> float:
    variants = Variants.build(settings, events.platforms, events.markets)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        replay(events, prices, variants, bot_curves=False)
        best = min(best, time.perf_counter() - t0)
    return len(events) * len(settings) / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--reference-events", type=int, default=20_000)
    args = parser.parse_args()
    events = synthetic_history(args.events)
    prices = PriceSeries.from_events(events)
    small = prefix(events, 500)
    t0 = time.perf_counter()
    replay(small, PriceSeries.from_events(small), Variants.build(grid(2), small.platforms, small.markets))
    warmup = time.perf_counter() - t0

    ref_events = prefix(events, args.reference_events)
    ref_prices = PriceSeries.from_events(ref_events)
    t0 = time.perf_counter()
    run_reference(ref_events, ref_prices, grid(1)[0])
    reference = len(ref_events) / (time.perf_counter() - t0)

    one = engine_rate(events, prices, grid(1))
    thousand = engine_rate(events, prices, grid(1000), repeat=1)
    result = {
        "command": f"benchmarks/bench_simulation.py --events {args.events} --reference-events {args.reference_events}",
        "events": len(events),
        "kernel_warmup_seconds": round(warmup, 1),
        "reference_events_per_s": round(reference),
        "engine_1_variant_event_variants_per_s": round(one),
        "engine_1000_variants_event_variants_per_s": round(thousand),
        "ratio_1_variant_vs_reference": round(one / reference, 1),
        "ratio_1000_variants_vs_reference": round(thousand / reference, 1),
        "goal_1000_variants_event_variants_per_s": 20_000_000,
        "goal_ratio_1000_vs_reference": 100,
    }
    (ROOT / "benchmarks" / "results" / "simulation.json").write_text(json.dumps(result, indent=1) + "\n")
    for key, value in result.items():
        print(f"{key:>44}: {value:,}" if isinstance(value, (int, float)) else f"{key:>44}: {value}")
    ok = thousand >= 20e6 and thousand / reference >= 100 and one >= reference
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
