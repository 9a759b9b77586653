"""End-to-end ingest speed: raw eth_getLogs response bytes -> committed PostgreSQL rows.

    .venv/bin/python benchmarks/bench_ingest.py [--logs 100000]

Brings up its own throwaway PostgreSQL (temporary home, free port, fsync off) and measures,
in one run, on the same GMX v1 IncreasePosition logs:
- ours: parse the response body, decode (numpy), and write the partition (delete + binary
  COPY of raw.event_logs, the landing table and raw.blocks, one transaction, committed);
- SQLAlchemy Core executemany of the same rows (insert only: no parse, no decode);
- SQLAlchemy ORM, one row at a time (flush per row; on a sample, scaled).
Prints logs/s and ratios, writes benchmarks/results/ingest.json. Goals (issue 4): >= 80k
logs/s, >= 5x Core executemany, >= 50x ORM row by row.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import orjson
import psycopg
from eth_abi import encode as abi_encode
from eth_utils import keccak

from copytrade.chain.logs import BlockHeader
from copytrade.chain.rpc import parse_logs_response
from copytrade.config import plain_pg_url
from copytrade.indexer.ingest import ensure_landing_tables, write_partition
from copytrade.indexer.ranges import BlockRange
from copytrade.services.process import free_port
from copytrade.services.stack import Stack
from copytrade.venues.decode import decode
from copytrade.venues.registry import load_registry
from copytrade.venues.spec import specs_for_row, tables_for_row

USD = 10**30
TYPES = ["bytes32", "address", "address", "address", "uint256", "uint256", "bool", "uint256", "uint256"]
SIGNATURE = f"IncreasePosition({','.join(TYPES)})"
GOALS = {"logs_per_second": 80_000, "vs_core_executemany": 5, "vs_orm_row_by_row": 50}


def make_response(n: int, address: str, seed: int = 1) -> tuple[bytes, dict[int, BlockHeader]]:
    """An eth_getLogs response body with ``n`` logs over consistent blocks, and their headers."""
    rng = random.Random(seed)
    topic0 = "0x" + keccak(text=SIGNATURE).hex()
    traders = ["0x" + rng.randbytes(20).hex() for _ in range(2_000)]
    tokens = ["0x" + rng.randbytes(20).hex() for _ in range(6)]
    logs, headers = [], {}
    block, log_index = 150_000_000, 0
    for i in range(n):
        if i % 20 == 0:
            block += rng.randint(1, 4)
            log_index = 0
            headers[block] = BlockHeader(block, "0x" + rng.randbytes(32).hex(), "0x" + rng.randbytes(32).hex(), 1_700_000_000 + block)
        size = rng.randint(10, 2_000_000) * USD
        values = [rng.randbytes(32), rng.choice(traders), rng.choice(tokens), rng.choice(tokens),
                  size // rng.randint(2, 50), size, rng.random() < 0.5, rng.randint(1, 10**7) * USD // 100, size // 1_000]
        logs.append({
            "address": address, "topics": [topic0], "data": "0x" + abi_encode(TYPES, values).hex(),
            "blockNumber": hex(block), "blockHash": headers[block].hash,
            "transactionHash": "0x" + rng.randbytes(32).hex(), "transactionIndex": hex(log_index // 4),
            "logIndex": hex(log_index), "removed": False,
        })
        log_index += 1
    return orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": logs}), headers


def truncate(conn: psycopg.Connection, tables: list[str]) -> None:
    conn.execute("TRUNCATE " + ", ".join(f"raw.{t}" for t in tables))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logs", type=int, default=100_000)
    parser.add_argument("--orm-sample", type=int, default=2_000)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=Path(__file__).resolve().parents[1] / ".local"))
    home.chmod(0o711)
    for key in ("DATABASE_URL", "DAGSTER_PG_URL", "REDIS_URL"):
        os.environ.pop(key, None)
    os.environ.update(COPYTRADE_HOME=str(home), COPYTRADE_PG_PORT=str(free_port()),
                      COPYTRADE_REDIS_PORT=str(free_port()), COPYTRADE_PG_DURABLE="false")
    stack = Stack.from_env()
    stack.up(dagster=False)
    try:
        registry = load_registry()
        row = registry.get("gmx_v1.arbitrum.vault")
        body, headers = make_response(args.logs, row.address)
        specs, tables = specs_for_row(row), tables_for_row(row)
        rng = BlockRange(min(headers), max(headers))
        landing = "gmx_v1__increase_position"
        all_tables = ["event_logs", "quarantine", "blocks", "ingested_ranges", landing]
        url = plain_pg_url(stack.endpoints.database_url)
        with psycopg.connect(url, autocommit=True) as conn:
            ensure_landing_tables(conn, tables.values())

            def ours() -> float:
                truncate(conn, all_tables)
                t0 = time.perf_counter()
                batch = parse_logs_response(body, row.chain_id)
                result = decode(batch, specs)
                write_partition(conn, row, rng, (rng.start, rng.end), batch, headers, result, tables)
                elapsed = time.perf_counter() - t0
                assert result.n_decoded == args.logs and not result.quarantine
                return elapsed

            ours_seconds = min(ours() for _ in range(3))
            stored = conn.execute("SELECT count(*) FROM raw.event_logs").fetchone()[0]
            landed = conn.execute(f"SELECT count(*) FROM raw.{landing}").fetchone()[0]
            assert stored == landed == args.logs
            # the rows the others insert: exactly what ours wrote
            log_rows = conn.execute("SELECT * FROM raw.event_logs ORDER BY block_number, log_index").fetchall()
            log_cols = [d.name for d in conn.execute("SELECT * FROM raw.event_logs LIMIT 0").description]
            land_rows = conn.execute(f"SELECT * FROM raw.{landing} ORDER BY block_number, log_index").fetchall()
            land_cols = [d.name for d in conn.execute(f"SELECT * FROM raw.{landing} LIMIT 0").description]
            truncate(conn, all_tables)

        import sqlalchemy as sa
        from sqlalchemy.orm import Session, registry as orm_registry

        engine = sa.create_engine(stack.endpoints.database_url.replace("postgresql://", "postgresql+psycopg://"))
        meta = sa.MetaData()
        event_logs = sa.Table("event_logs", meta, autoload_with=engine, schema="raw")
        landing_table = sa.Table(landing, meta, autoload_with=engine, schema="raw")
        log_dicts = [dict(zip(log_cols, r)) for r in log_rows]
        land_dicts = [dict(zip(land_cols, r)) for r in land_rows]
        with engine.begin() as c:
            c.execute(sa.text(f"TRUNCATE raw.event_logs, raw.{landing}"))
        t0 = time.perf_counter()
        with engine.begin() as c:
            c.execute(event_logs.insert(), log_dicts)
            c.execute(landing_table.insert(), land_dicts)
        core_seconds = time.perf_counter() - t0

        mapper = orm_registry()

        class EventLog:
            pass

        class Landing:
            pass

        mapper.map_imperatively(EventLog, event_logs)
        mapper.map_imperatively(Landing, landing_table, primary_key=[
            landing_table.c.chain_id, landing_table.c.block_number, landing_table.c.log_index])
        with engine.begin() as c:
            c.execute(sa.text(f"TRUNCATE raw.event_logs, raw.{landing}"))
        sample = args.orm_sample
        t0 = time.perf_counter()
        with Session(engine) as session:
            for log, land in zip(log_dicts[:sample], land_dicts[:sample]):
                session.add(EventLog(**log))
                session.flush()
                session.add(Landing(**land))
                session.flush()
            session.commit()
        orm_seconds = (time.perf_counter() - t0) * args.logs / sample
        engine.dispose()
    finally:
        stack.down()
        shutil.rmtree(home, ignore_errors=True)

    ours_rate = args.logs / ours_seconds
    result = {
        "command": f"benchmarks/bench_ingest.py --logs {args.logs}",
        "logs": args.logs,
        "ours_seconds": round(ours_seconds, 3),
        "ours_logs_per_second": round(ours_rate),
        "core_executemany_logs_per_second": round(args.logs / core_seconds),
        "orm_row_by_row_logs_per_second": round(args.logs / orm_seconds),
        "vs_core_executemany": round(core_seconds / ours_seconds, 1),
        "vs_orm_row_by_row": round(orm_seconds / ours_seconds, 1),
        "goals": GOALS,
    }
    result["goals_met"] = (
        result["ours_logs_per_second"] >= GOALS["logs_per_second"]
        and result["vs_core_executemany"] >= GOALS["vs_core_executemany"]
        and result["vs_orm_row_by_row"] >= GOALS["vs_orm_row_by_row"]
    )
    out = Path(__file__).parent / "results" / "ingest.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    for key, value in result.items():
        print(f"{key:>34}: {value}")
    return 0 if result["goals_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
