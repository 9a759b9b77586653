"""The marts against the dev chain's ledger: every trader, every day, every position."""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from copytrade.chain.rpc import RpcClient
from copytrade.indexer.ingest import ingest_partition
from copytrade.indexer.ranges import BlockRange
from copytrade.venues.registry import load_registry
from tests.dbt.harness import TOLERANCE, compare, dbt, modeled_actions, truth_actions
from tests.indexer.conftest import truncate_raw

SIZE_ACTIONS = {"OPEN", "INCREASE", "DECREASE", "CLOSE", "LIQUIDATE"}


def close_enough(a, b) -> bool:
    return abs(Decimal(a) - Decimal(b)) <= TOLERANCE


def test_event_log_daily_pnl_and_positions_match_the_ledger(pipeline):
    chain, manifest, conn = pipeline
    dbt("build", "--full-refresh")

    # 1. every in-range action, field by field
    truth = truth_actions(chain.ground_truth_dir)
    problems = compare(truth, modeled_actions(conn, "analytics.perp_trading_event_log"))
    assert not problems, "\n".join(problems[:60])

    # 2. realized PnL, fees, volume, trades and liquidations per platform x trader x day
    expected = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), 0, 0])
    for a in truth.values():
        day = datetime.fromtimestamp(int(a["block_time"]), UTC).date()
        row = expected[(a["platform"], a["trader"], day)]
        row[0] += Decimal(a["realized_pnl_usd"])
        row[1] += Decimal(a["fee_usd"])
        if a["action"] in SIZE_ACTIONS:
            row[2] += Decimal(a["size_delta_usd"])
            row[3] += 1
        row[4] += a["action"] == "LIQUIDATE"
    got = {
        (p, t, d): [pnl, fees, vol, trades, liqs]
        for p, t, d, pnl, fees, vol, trades, liqs in conn.execute(
            "SELECT platform, trader, date, pnl_usd, fees_usd, volume_usd, trades, liquidations"
            " FROM analytics.pnl_snapshot_v2 WHERE kind = 'DAY'"
        )
    }
    assert set(got) == set(expected)
    bad = [
        (k, got[k], v) for k, v in expected.items()
        if not (all(close_enough(g, e) for g, e in zip(got[k][:3], v[:3])) and got[k][3:] == v[3:])
    ]
    assert not bad, bad[:10]
    # the windows accumulate the days
    all_time = dict(conn.execute(
        "SELECT platform || trader, pnl_usd FROM analytics.pnl_snapshot_v2 s WHERE kind = 'ALL_TIME'"
        " AND date = (SELECT max(date) FROM analytics.pnl_snapshot_v2 x WHERE x.platform = s.platform AND x.trader = s.trader)"
    ).fetchall())
    totals = defaultdict(Decimal)
    for (p, t, _), v in expected.items():
        totals[p + t] += v[0]
    assert all(close_enough(all_time[k], v) for k, v in totals.items())

    # 3. positions, one to one; those opened before the indexed range are flagged
    with (chain.ground_truth_dir / "positions.csv").open() as fh:
        ledger = list(csv.DictReader(fh))

    def key(trader, market, is_long, opened_at):
        return (trader, market, bool(int(is_long)) if isinstance(is_long, str) else is_long, int(opened_at))

    modeled = {}
    for r in conn.execute(
        "SELECT trader, market, is_long, extract(epoch from opened_at)::bigint, status, extract(epoch from closed_at)::bigint,"
        " realized_pnl_usd, fees_usd, funding_usd, max_size_usd, max_collateral_usd, actions, entry_price, exit_price,"
        " opened_before_range FROM analytics.positions"
    ):
        modeled[key(*r[:4])] = r[4:]
    complete = [p for p in ledger if p["opened_before_range"] == "0"]
    seen = {a["position_uid"] for a in truth.values()}  # positions with actions in the indexed range
    flagged = {(r[0], r[1], r[2]) for r in conn.execute(
        "SELECT trader, market, is_long FROM analytics.positions WHERE opened_before_range")}
    assert flagged and flagged == {
        (p["trader"], p["market"], p["is_long"] == "1") for p in ledger
        if p["opened_before_range"] == "1" and p["position_uid"] in seen
    }
    assert len(modeled) == len(complete) + len(flagged)
    mismatches = []
    for p in complete:
        m = modeled.get(key(p["trader"], p["market"], p["is_long"], p["opened_at"]))
        if m is None:
            mismatches.append(("missing", p["position_uid"]))
            continue
        status, closed_at, realized, fees, funding, max_size, max_coll, actions, entry, exit_, before = m
        ok = (
            status == p["status"] and (closed_at or "") == (int(p["closed_at"]) if p["closed_at"] else "")
            and close_enough(realized, p["realized_pnl_usd"]) and close_enough(fees, p["fees_usd"])
            and close_enough(funding, p["funding_usd"]) and close_enough(max_size, p["max_size_usd"])
            and close_enough(max_coll, p["max_collateral_usd"]) and actions == int(p["actions"])
            and close_enough(entry, p["entry_price"]) and (exit_ is None) == (p["exit_price"] == "")
            and not before
        )
        if not ok:
            mismatches.append((p["position_uid"], m, p))
    assert not mismatches, mismatches[:5]


def test_leaderboard_is_consistent(pipeline):
    chain, manifest, conn = pipeline
    dbt("build", "--select", "leaderboard+")
    rows = conn.execute(
        'SELECT window_name, platform, trader, pnl_usd, trades, rank, max_drawdown_usd, r2 FROM analytics.leaderboard'
    ).fetchall()
    assert {r[0] for r in rows} == {"7D", "30D", "90D", "ALL"}
    # ALL equals the ALL_TIME snapshot of each trader's last day
    all_rows = {(r[1], r[2]): r for r in rows if r[0] == "ALL"}
    snapshot = dict(conn.execute(
        "SELECT platform || '|' || trader, pnl_usd FROM analytics.pnl_snapshot_v2 s WHERE kind = 'ALL_TIME'"
        " AND date = (SELECT max(date) FROM analytics.pnl_snapshot_v2 x WHERE x.platform = s.platform AND x.trader = s.trader)"
    ).fetchall())
    assert all(close_enough(r[3], snapshot[f"{p}|{t}"]) for (p, t), r in all_rows.items())
    # ranks are by PnL within platform and window; drawdowns are never negative
    for window in ("7D", "ALL"):
        for platform in {r[1] for r in rows}:
            board = sorted((r for r in rows if r[0] == window and r[1] == platform), key=lambda r: r[5])
            assert [r[5] for r in board] == list(range(1, len(board) + 1))
            assert all(a[3] >= b[3] for a, b in zip(board, board[1:]))
    assert all(r[6] >= 0 for r in rows)
    assert any(r[7] is not None for r in rows)


INCREMENTAL_MODELS = (
    "staging.stg_gmx_v1__position_events", "staging.stg_gmx_v2__position_events",
    "analytics.perp_trading_event_log", "analytics.positions", "analytics.pnl_snapshot_v2", "analytics.leaderboard",
)


def differences(conn, relation: str, snapshot: str) -> int:
    """Rows in one table and not the other (multiset difference both ways)."""
    return conn.execute(
        f"SELECT (SELECT count(*) FROM (TABLE {relation} EXCEPT ALL TABLE {snapshot}) a)"
        f" + (SELECT count(*) FROM (TABLE {snapshot} EXCEPT ALL TABLE {relation}) b)"
    ).fetchone()[0]


def test_incremental_builds_equal_a_full_build(pipeline):
    """New blocks on top, an old range backfilled below the watermark, and a range re-ingested
    (as after a reorg): each incremental build ends with exactly the rows of a full build."""
    chain, manifest, conn = pipeline
    rows = load_registry(Path(os.environ["COPYTRADE_HOME"])).for_chain(31337)
    with RpcClient(chain.info().url, use_finalized_tag=False) as rpc:
        head = rpc.block_number()

        def ingest(start: int, end: int) -> None:
            for row in rows:
                ingest_partition(conn, rpc, row, BlockRange(start, end), head)

        def build_truth(schema: str) -> None:
            dbt("build", "--full-refresh", "--exclude", "test_type:unit")
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            for relation in INCREMENTAL_MODELS:
                conn.execute(f"CREATE TABLE {schema}.{relation.split('.')[1]} AS TABLE {relation}")

        def assert_same_as_full(schema: str, step: str) -> None:
            for relation in INCREMENTAL_MODELS:
                diff = differences(conn, relation, f"{schema}.{relation.split('.')[1]}")
                assert diff == 0, f"{step}: {relation} differs from the full build in {diff} rows"

        third, two_thirds = head // 3, 2 * head // 3
        truncate_raw(conn)
        ingest(0, head)
        build_truth("truth_all")
        truth_rows = conn.execute("SELECT count(*) FROM analytics.perp_trading_event_log").fetchone()[0]
        assert truth_rows > 500

        # 1. the first two thirds, then the rest on top (the daily case)
        truncate_raw(conn)
        ingest(0, two_thirds)
        build_truth("truth_two_thirds")
        assert conn.execute("SELECT count(*) FROM analytics.perp_trading_event_log").fetchone()[0] < truth_rows
        ingest(two_thirds + 1, head)
        dbt("build", "--exclude", "test_type:unit")
        assert_same_as_full("truth_all", "new blocks on top")

        # 2. the newest third first, the older two thirds backfilled afterwards
        truncate_raw(conn)
        ingest(two_thirds + 1, head)
        dbt("build", "--full-refresh", "--exclude", "test_type:unit")
        ingest(0, two_thirds)
        dbt("build", "--exclude", "test_type:unit")
        assert_same_as_full("truth_all", "old range backfilled below the watermark")

        # 3. a middle range rolled back and ingested again, far below the reorg lookback
        ingest(third, two_thirds)
        dbt("build", "--exclude", "test_type:unit")
        assert_same_as_full("truth_all", "middle range re-ingested")

        # 4. the raw data is replaced by less: what vanished leaves no position or PnL behind
        truncate_raw(conn)
        ingest(0, two_thirds)
        dbt("build", "--exclude", "test_type:unit")
        assert_same_as_full("truth_two_thirds", "events removed")
    conn.execute("DROP SCHEMA truth_all CASCADE; DROP SCHEMA truth_two_thirds CASCADE")
