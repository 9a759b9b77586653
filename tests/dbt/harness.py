"""Run the pipeline on a dev chain and compare dbt's output with the scenario's ledger.

Used by the dbt integration tests (and handy by hand): seed -> ingest every partition ->
`dbt seed` + `dbt build` -> compare `analytics.perp_trading_event_log` (or a venue's staging
model) row by row with `ground_truth/actions.csv`.
"""

from __future__ import annotations

import csv
import os
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import psycopg

from copytrade.chain.chains import chain_config
from copytrade.indexer.ingest import ingest_partition
from copytrade.indexer.ranges import ranges_through
from copytrade.services.dagster_home import venv_bin
from tests.conftest import ROOT

DBT_DIR = ROOT / "dbt_project"
TOLERANCE = Decimal("1e-6")
AMOUNTS = (
    "size_delta_usd", "size_after_usd", "collateral_delta_usd", "collateral_after_usd", "price",
    "fee_usd", "funding_usd", "realized_pnl_before_fees_usd", "realized_pnl_usd",
)
KEYS = ("trader", "market", "action", "position_key", "contract_id", "platform", "version")


def ingest_everything(conn: psycopg.Connection, rpc, rows) -> int:
    head = rpc.block_number()
    span = chain_config(31337).partition_span
    total = 0
    for row in rows:
        for rng in ranges_through(head, span, row.from_block):
            total += ingest_partition(conn, rpc, row, rng, head).logs
    return total


def dbt(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run dbt against the session's database (env from copytrade.config.dbt_environ)."""
    # a target/log dir per test session: concurrent sessions must not share dbt's state files
    state = Path(os.environ.get("COPYTRADE_HOME", str(ROOT / ".local"))) / "dbt"
    result = subprocess.run(
        [venv_bin("dbt"), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(state / "target"), "--log-path", str(state / "logs")],
        env={**os.environ, **(env or {})}, cwd=DBT_DIR, capture_output=True, text=True, timeout=1200,
    )
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result


def truth_actions(ground_truth: Path, platforms: set[str] | None = None) -> dict[tuple, dict]:
    """In-range ledger actions keyed by (tx_hash, log_index, action_seq)."""
    out: dict[tuple, dict] = {}
    seq: dict[tuple, int] = defaultdict(int)
    with (ground_truth / "actions.csv").open() as fh:
        for a in csv.DictReader(fh):
            if a["in_indexed_range"] != "1" or (platforms and a["platform"] not in platforms):
                continue
            key = (a["tx_hash"], int(a["log_index"]))
            out[key + (seq[key],)] = a
            seq[key] += 1
    return out


def modeled_actions(conn: psycopg.Connection, relation: str, platforms: set[str] | None = None) -> dict[tuple, dict]:
    cur = conn.execute(f"SELECT * FROM {relation}")
    names = [d.name for d in cur.description]
    out = {}
    for values in cur.fetchall():
        r = dict(zip(names, values))
        if platforms and r["platform"] not in platforms:
            continue
        out[(r["tx_hash"], r["log_index"], r["action_seq"])] = r
    return out


def compare(truth: dict[tuple, dict], modeled: dict[tuple, dict], limit: int = 20) -> list[str]:
    """Mismatches between ledger and model (missing, extra, differing fields)."""
    problems = []
    for key in sorted(set(truth) - set(modeled))[:limit]:
        problems.append(f"missing {key}: {truth[key]['platform']} {truth[key]['action']}")
    for key in sorted(set(modeled) - set(truth))[:limit]:
        problems.append(f"extra {key}: {modeled[key]['platform']} {modeled[key]['action']}")
    for key in sorted(set(truth) & set(modeled)):
        t, m = truth[key], modeled[key]
        for field in KEYS:
            if str(m[field]) != t[field]:
                problems.append(f"{key} {t['platform']} {t['action']}: {field} {m[field]!r} != ledger {t[field]!r}")
        if bool(m["is_long"]) != (t["is_long"] == "1"):
            problems.append(f"{key}: is_long {m['is_long']} != ledger {t['is_long']}")
        if int(m["block_number"]) != int(t["block_number"]) or int(m["block_time"].timestamp()) != int(t["block_time"]):
            problems.append(f"{key}: block/time differ")
        for field in AMOUNTS:
            if abs(Decimal(m[field]) - Decimal(t[field])) > TOLERANCE:
                problems.append(f"{key} {t['platform']} {t['action']}: {field} {m[field]} != ledger {t[field]}")
        if len(problems) > 200:
            break
    return problems
