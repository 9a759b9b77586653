"""dbt build time for ~1M normalized events, and an incremental run after one more day.

    .venv/bin/python benchmarks/bench_dbt.py [--traders 4000 --days 90]

Prepares (once, kept in .local/bench-dbt/) a dev chain of ``days + 1`` days and ingests it
twice, as the platform does: up to the start of the last day, then every partition again up
to the head (the head partitions grow; the indexer records where their content changed).
Both states are kept aside. The run restores the first, times ``dbt build --full-refresh``,
restores the second (its newly written ranges stamped as committed after the build) and
times a plain (incremental) ``dbt build``. The goal (issue 5): the incremental run under 10% of the
full build. Writes benchmarks/results/dbt.json. ``--fresh`` discards the prepared data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from copytrade.chain.chains import chain_config
from copytrade.chain.rpc import RpcClient
from copytrade.config import dbt_environ, plain_pg_url
from copytrade.devchain.anvil import BLOCK_TIME
from copytrade.devchain.chain import DAY, DevChain, Milestones, ScenarioParams
from copytrade.indexer.ingest import ingest_partition
from copytrade.indexer.ranges import ranges_through
from copytrade.services.dagster_home import venv_bin
from copytrade.services.process import free_port
from copytrade.services.stack import Stack
from copytrade.venues.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
DBT = ROOT / "dbt_project"
PREPARED_FORMAT = 2  # raw.ingested_ranges.changed_from


def ingest(conn, rows, url: str, head: int) -> int:
    span = chain_config(31337).partition_span
    logs = 0
    with RpcClient(url, use_finalized_tag=False) as rpc:
        for row in rows:
            for rng in ranges_through(head, span, row.from_block):
                logs += ingest_partition(conn, rpc, row, rng, head).logs
    return logs


def dbt_build(home: Path, *extra: str) -> float:
    t0 = time.perf_counter()
    state = home / "dbt"
    result = subprocess.run(
        [venv_bin("dbt"), "build", *extra, "--project-dir", str(DBT), "--profiles-dir", str(DBT),
         "--target-path", str(state / "target"), "--log-path", str(state / "logs")],
        env=os.environ, cwd=DBT, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"dbt build failed:\n{result.stdout[-4000:]}")
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traders", type=int, default=4000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    home = ROOT / ".local" / "bench-dbt"
    if args.fresh:
        shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True, mode=0o711)
    state_file = home / "prepared.json"
    prepared = json.loads(state_file.read_text()) if state_file.exists() else {}
    ports = prepared.get("ports") or {"pg": free_port(), "redis": free_port()}
    for key in ("DATABASE_URL", "DAGSTER_PG_URL", "REDIS_URL"):
        os.environ.pop(key, None)
    os.environ.update(COPYTRADE_HOME=str(home), COPYTRADE_PG_PORT=str(ports["pg"]),
                      COPYTRADE_REDIS_PORT=str(ports["redis"]), COPYTRADE_PG_DURABLE="false", DO_NOT_TRACK="1")
    stack = Stack.from_env()
    stack.up(dagster=False)
    os.environ.update(stack.endpoints.environ())
    os.environ.update(dbt_environ(stack.endpoints.database_url))
    chain = DevChain(home, free_port())
    params = ScenarioParams(args.traders, args.days + 1, 1)
    try:
        with psycopg.connect(plain_pg_url(stack.endpoints.database_url), autocommit=True) as conn:
            if prepared.get("params") != [args.traders, args.days] or prepared.get("format") != PREPARED_FORMAT:
                chain.down()
                chain.up()
                t0 = time.perf_counter()
                manifest = chain.seed(params)
                print(f"seeded {manifest['counts']['actions']:,} actions in {time.perf_counter() - t0:.0f} s", flush=True)
                milestones = Milestones.plan(manifest["chain"]["genesis_time"], params)
                cut = (milestones.end_time - DAY - manifest["chain"]["genesis_time"]) // BLOCK_TIME
                rows = load_registry(home).for_chain(31337)
                t0 = time.perf_counter()
                first = ingest(conn, rows, chain.info().url, cut)
                print(f"ingested {first:,} logs up to block {cut:,} in {time.perf_counter() - t0:.0f} s", flush=True)
                # keep the last day's raw logs aside: load them into a side schema now (the chain
                # goes away with this process) and move them in for the incremental run
                head = manifest["chain"]["head"]
                conn.execute("DROP SCHEMA IF EXISTS later CASCADE")
                conn.execute("CREATE SCHEMA later")
                tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'raw' AND tablename <> 'contracts'")]
                for t in tables:
                    conn.execute(f'CREATE TABLE later."{t}" (LIKE raw."{t}")')
                    conn.execute(f'INSERT INTO later."{t}" SELECT * FROM raw."{t}"')
                rest = ingest(conn, rows, chain.info().url, head)
                for t in tables:
                    conn.execute(f'CREATE TABLE later."{t}__all" AS SELECT * FROM raw."{t}"')
                    conn.execute(f'TRUNCATE raw."{t}"')
                    conn.execute(f'INSERT INTO raw."{t}" SELECT * FROM later."{t}"')
                prepared = {"params": [args.traders, args.days], "format": PREPARED_FORMAT, "ports": ports, "logs_first": first,
                            "logs_all": rest, "actions": manifest["counts"]["actions"], "cut_block": cut}
                state_file.write_text(json.dumps(prepared))
                chain.down()
            tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'raw' AND tablename <> 'contracts'")]
            for t in tables:  # back to the 90-day state
                conn.execute(f'TRUNCATE raw."{t}"')
                conn.execute(f'INSERT INTO raw."{t}" SELECT * FROM later."{t}"')
            conn.execute("ANALYZE")
            dbt_build(home, "--select", "resource_type:seed")
            full = dbt_build(home, "--full-refresh")
            events = conn.execute("SELECT count(*) FROM analytics.perp_trading_event_log").fetchone()[0]
            for t in tables:  # one more day lands
                conn.execute(f'TRUNCATE raw."{t}"')
                conn.execute(f'INSERT INTO raw."{t}" SELECT * FROM later."{t}__all"')
            # the ranges the last day's ingestion wrote (the grown head partitions, with the
            # changed_from the indexer computed then) count as committed now, after the build
            conn.execute(
                "UPDATE raw.ingested_ranges a SET ingested_at = clock_timestamp() WHERE NOT EXISTS ("
                " SELECT 1 FROM later.ingested_ranges f WHERE f.contract_id = a.contract_id"
                " AND f.from_block = a.from_block AND f.to_block = a.to_block)"
            )
            conn.execute("ANALYZE")
            incremental = dbt_build(home)
            events_after = conn.execute("SELECT count(*) FROM analytics.perp_trading_event_log").fetchone()[0]
    finally:
        chain.down()
        stack.down()
    result = {
        "command": f"benchmarks/bench_dbt.py --traders {args.traders} --days {args.days}",
        "raw_logs": prepared["logs_first"],
        "events_full_build": events,
        "full_build_seconds": round(full, 1),
        "events_after_one_more_day": events_after,
        "incremental_build_seconds": round(incremental, 1),
        "incremental_vs_full": round(incremental / full, 3),
        "goal_incremental_vs_full": 0.10,
    }
    (ROOT / "benchmarks" / "results" / "dbt.json").write_text(json.dumps(result, indent=1) + "\n")
    for key, value in result.items():
        print(f"{key:>28}: {value}")
    return 0 if result["incremental_vs_full"] < 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
