"""Seeding speed of the dev chain: logs emitted per second for a large scenario.

    .venv/bin/python benchmarks/bench_devchain_seed.py --traders 2000 --days 90

Starts its own anvil in a temporary home (nothing shared with `devchain up`), seeds, and
prints logs/s, actions/s and the elapsed time against the 10-minute budget of issue 3.
Writes the figures to benchmarks/results/devchain_seed.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from copytrade.devchain.chain import DevChain, ScenarioParams
from copytrade.services.process import free_port

BUDGET_SECONDS = 600


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traders", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--window", type=int, default=300)
    args = parser.parse_args()
    params = ScenarioParams(args.traders, args.days, args.seed, args.window)
    with tempfile.TemporaryDirectory(prefix="bench-devchain-") as home:
        chain = DevChain(Path(home), free_port())
        t0 = time.perf_counter()
        chain.up()
        up_seconds = time.perf_counter() - t0
        try:
            with Progress(TextColumn("seeding day"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[logs]:,} logs"), TimeElapsedColumn()) as bar:
                task = bar.add_task("seed", total=args.days, logs=0)
                manifest = chain.seed(params, lambda d, n, logs: bar.update(task, completed=d, logs=logs))
        finally:
            chain.down()
    elapsed = manifest["elapsed_seconds"]
    emitted = manifest["emitted"]
    result = {
        "scenario": f"--traders {args.traders} --days {args.days} --seed {args.seed} --window {args.window}",
        "devchain_up_seconds": round(up_seconds, 2),
        "seed_seconds": elapsed,
        "logs": emitted["logs"],
        "actions": manifest["counts"]["actions"],
        "positions": manifest["counts"]["positions"],
        "transactions": emitted["transactions"],
        "blocks_with_logs": emitted["blocks"],
        "head_block": manifest["chain"]["head"],
        "logs_per_second": round(emitted["logs"] / elapsed),
        "actions_per_second": round(manifest["counts"]["actions"] / elapsed),
        "budget_seconds": BUDGET_SECONDS,
        "budget_ratio": round(BUDGET_SECONDS / elapsed, 2),
    }
    out = Path(__file__).parent / "results" / "devchain_seed.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    for key, value in result.items():
        print(f"{key:>22}: {value:,}" if isinstance(value, int) else f"{key:>22}: {value}")
    return 0 if elapsed < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
