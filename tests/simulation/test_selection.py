"""Auto selection (no look-ahead), settings grids and walk-forward research.

Pure tests for the R²/slope helper, the filters and the grid expansion; integration tests on
the dev chain's warehouse (4 days, 40 traders), where the data after a window start is
changed inside a rolled-back transaction to prove the selection never reads it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from pydantic import ValidationError

from copytrade.config import plain_pg_url
from copytrade.simulation.data import SIZE_ACTIONS, load_inputs
from copytrade.simulation.research import (
    MAX_VARIANTS,
    GridError,
    expand_grid,
    grid_research,
    range_values,
    walk_forward,
    windows,
)
from copytrade.simulation.results import simulate
from copytrade.simulation.selection import (
    LeaderStats,
    SelectionCriteria,
    auto_plan,
    leader_stats,
    rank_leaders,
    select_leaders,
    trend,
)
from copytrade.simulation.settings import CopySettings
from tests.dbt.conftest import pipeline  # noqa: F401  (the module-scoped dev-chain fixture)
from tests.dbt.harness import dbt

DAY0 = datetime(2025, 1, 1, tzinfo=UTC)  # the dev chain's first day (data: Jan 1 01:30 - Jan 5 00:30)
MIDDLE = DAY0 + timedelta(days=2)
NEWCOMER = "0x" + "ab" * 20


# ---------------------------------------------------------------- pure: R² and slope


def test_trend_of_a_straight_climb_is_perfect():
    # cumulative 10, 20, 30, 40 on x = 1..4: slope 10, R² 1
    r2, slope = trend([10, 10, 10, 10])
    assert r2 == pytest.approx(1.0) and slope == pytest.approx(10.0)


def test_trend_hand_computed():
    # pnl 1, -1, 1, -1 -> cumulative 1, 0, 1, 0; x = 1..4, x̄ = 2.5, ȳ = 0.5
    # Sxx = 5, Syy = 1, Sxy = -1 -> slope -0.2, R² = 1 / 5
    r2, slope = trend([1, -1, 1, -1])
    assert slope == pytest.approx(-0.2) and r2 == pytest.approx(0.2)
    # pnl 3, -1, 4 -> cumulative 3, 2, 6; x̄ = 2, ȳ = 11/3
    # Sxy = (-1)(3 - 11/3) + 0 + (1)(6 - 11/3) = 3, Sxx = 2 -> slope 1.5
    # Syy = (2/3)² + (5/3)² + (7/3)² = 78/9 -> R² = 9 / (2 * 78/9) = 81/156
    r2, slope = trend([3, -1, 4])
    assert slope == pytest.approx(1.5) and r2 == pytest.approx(81 / 156)


def test_trend_is_undefined_below_two_points_and_one_when_flat():
    assert trend([]) == (None, None)
    assert trend([42.0]) == (None, None)
    assert trend([0.0, 0.0, 0.0]) == (1.0, 0.0)


# ---------------------------------------------------------------- pure: criteria and ranking


def stats(trader: str, pnl: float = 0.0, trades: int = 10, r2: float | None = 0.5, slope: float | None = 1.0,
          lev: float | None = 5.0, coll: float | None = 1000.0) -> LeaderStats:
    return LeaderStats(trader, trades, 3, pnl, lev, coll, (), r2, slope)


@pytest.mark.parametrize("bad, field", [
    ({"lookback_days": 0}, "lookback_days"), ({"count": 0}, "count"), ({"min_r2": 1.5}, "min_r2"),
    ({"max_r2": -0.1}, "max_r2"), ({"max_leverage": 0}, "max_leverage"),
    ({"min_avg_collateral_usd": -1}, "min_avg_collateral_usd"), ({"rank_by": "luck"}, "rank_by"),
    ({"min_trades": 5, "max_trades": 2}, "min_trades must not exceed max_trades"),
    ({"min_r2": 0.9, "max_r2": 0.5}, "min_r2 must not exceed max_r2"),
    ({"min_slope": 1, "max_slope": -1}, "min_slope must not exceed max_slope"),
    ({"surprise": 1}, "surprise"),
])
def test_criteria_refuse_bad_values_naming_the_field(bad, field):
    with pytest.raises(ValidationError, match=field):
        SelectionCriteria(**bad)


def test_filters_are_inclusive_and_undefined_values_fail_a_bound():
    pool = [
        stats("0xa", pnl=5, trades=3), stats("0xb", pnl=9, trades=10), stats("0xc", pnl=7, trades=11),
        stats("0xd", pnl=100, r2=None, slope=None), stats("0xe", pnl=50, lev=20.0),
        stats("0xf", pnl=60, coll=10.0), stats("0x0", pnl=70, lev=None),
    ]
    got = rank_leaders(pool, SelectionCriteria(min_trades=3, max_trades=10, min_r2=0.5, max_leverage=10,
                                               min_avg_collateral_usd=100))
    # 0xc: 11 trades; 0xd: R² undefined; 0xe: leverage 20; 0xf: collateral 10; 0x0: leverage undefined
    assert [s.trader for s in got] == ["0xb", "0xa"]
    # no bound: undefined values pass
    assert {s.trader for s in rank_leaders(pool, SelectionCriteria())} == {s.trader for s in pool}


def test_ranking_is_deterministic_with_undefined_last():
    pool = [stats("0xc", pnl=1, r2=0.9), stats("0xa", pnl=1, r2=0.9), stats("0xb", pnl=2, r2=None),
            stats("0xd", pnl=-1, r2=0.95)]
    assert [s.trader for s in rank_leaders(pool, SelectionCriteria())] == ["0xb", "0xa", "0xc", "0xd"]
    assert [s.trader for s in rank_leaders(pool, SelectionCriteria(rank_by="r2"))] == ["0xd", "0xa", "0xc", "0xb"]


# ---------------------------------------------------------------- pure: grids


def test_expand_grid_counts_values_and_keeps_the_base():
    base = CopySettings(fixed_collateral_usd=250.0, sizing="fixed")
    grid = expand_grid(base, {"stop_loss_pct": (5, 20, 5), "ratio": (0.1, 0.3, 0.1), "copy_delay_seconds": (0, 60, 30)})
    assert len(grid) == 4 * 3 * 3
    assert sorted({s.stop_loss_pct for s in grid}) == [5.0, 10.0, 15.0, 20.0]
    assert sorted({s.ratio for s in grid}) == [0.1, 0.2, 0.3]  # no 0.30000000000000004
    assert sorted({s.copy_delay_seconds for s in grid}) == [0, 30, 60]
    assert all(isinstance(s.copy_delay_seconds, int) for s in grid)
    assert len({(s.stop_loss_pct, s.ratio, s.copy_delay_seconds) for s in grid}) == len(grid)
    assert all(s.fixed_collateral_usd == 250.0 and s.sizing == "fixed" for s in grid)
    # first range slowest, like nested loops
    assert [(s.stop_loss_pct, s.ratio, s.copy_delay_seconds) for s in grid[:4]] == [
        (5.0, 0.1, 0), (5.0, 0.1, 30), (5.0, 0.1, 60), (5.0, 0.2, 0)]
    assert expand_grid(base, {}) == [base]


def test_range_values_include_max_within_rounding_and_a_single_point():
    assert range_values("ratio", (0.5, 2.0, 0.5)) == [0.5, 1.0, 1.5, 2.0]
    assert range_values("ratio", (0.5, 1.9, 0.5)) == [0.5, 1.0, 1.5]
    assert range_values("stop_loss_pct", (7, 7, 1)) == [7.0]
    assert range_values("max_open_positions", (1, 3, 1)) == [1, 2, 3]


@pytest.mark.parametrize("ranges, message", [
    ({"nope": (1, 2, 1)}, "nope: no such setting"),
    ({"mode": (1, 2, 1)}, "mode: not a numeric setting"),
    ({"funding": (0, 1, 1)}, "funding: not a numeric setting"),
    ({"ratio": (2, 1, 0.5)}, "ratio: min must not exceed max"),
    ({"ratio": (1, 2, 0)}, "ratio: step must be positive"),
    ({"ratio": (1, 2, -1)}, "ratio: step must be positive"),
    ({"ratio": (1, math.inf, 1)}, "ratio: min, max and step must be finite"),
    ({"ratio": (1, 2)}, r"ratio: a range is \(min, max, step\)"),
    ({"copy_delay_seconds": (0, 1, 0.5)}, "copy_delay_seconds: an integer setting"),
    ({"ratio": (0.001, 1000, 0.001)}, f"more than the {MAX_VARIANTS}"),
    ({"stop_loss_pct": (1, 100, 1), "ratio": (1, 200, 1)}, "100 stop_loss_pct x 200 ratio = 20000 variants"),
    ({"ratio": (0, 1, 0.5)}, r"grid variant \{'ratio': 0.0\}: ratio: Input should be greater than 0"),
    ({"min_leverage": (50, 150, 50)}, "min_leverage must not exceed max_leverage"),
])
def test_expand_grid_errors_name_the_field(ranges, message):
    with pytest.raises(GridError, match=message):
        expand_grid(CopySettings(), ranges)


def test_windows_are_consecutive_and_cut_at_the_end():
    got = windows(DAY0, DAY0 + timedelta(days=2, hours=12), 1)
    assert got == [(DAY0, DAY0 + timedelta(days=1)), (DAY0 + timedelta(days=1), DAY0 + timedelta(days=2)),
                   (DAY0 + timedelta(days=2), DAY0 + timedelta(days=2, hours=12))]
    with pytest.raises(ValueError, match="step_days"):
        windows(DAY0, DAY0 + timedelta(days=1), 0)
    with pytest.raises(ValueError, match="end must be after start"):
        windows(DAY0, DAY0, 1)


# ---------------------------------------------------------------- integration: the warehouse


@pytest.fixture(scope="module")
def warehouse(pipeline):  # noqa: F811
    """The pipeline's connection (autocommit) once the marts are built."""
    _, _, conn = pipeline
    dbt("build", "--exclude", "test_type:unit")
    return conn


@pytest.fixture
def scratch(stack, warehouse) -> Iterator:
    """Connections whose changes to the warehouse are rolled back: other tests see none."""
    opened = []

    @contextmanager
    def transaction() -> Iterator[psycopg.Connection]:
        conn = psycopg.connect(plain_pg_url(stack.endpoints.database_url))
        opened.append(conn)
        try:
            yield conn
        finally:
            conn.rollback()
            conn.close()

    yield transaction
    for conn in opened:
        conn.close()


def recomputed_stats(conn: psycopg.Connection, platform: str, before: datetime, days: float) -> dict[str, tuple]:
    """The stats again, by hand in Python from the raw event-log rows of the lookback."""
    rows = conn.execute(
        "select trader, chain_id, position_scope, position_key, action, block_time, block_number, log_index,"
        " action_seq, size_after_usd::float8, collateral_after_usd::float8, coalesce(realized_pnl_usd, 0)::float8"
        " from analytics.perp_trading_event_log where platform = %s and block_time >= %s and block_time < %s"
        " order by chain_id, position_scope, position_key, block_number, log_index, action_seq",
        (platform, before - timedelta(days=days), before),
    ).fetchall()
    per = defaultdict(lambda: {"trades": 0, "pnl": 0.0, "lev": [], "coll": [], "closes": []})
    lifecycle_pnl: dict[tuple, float] = defaultdict(float)
    lifecycle_of: list[tuple] = []
    opens: dict[tuple, int] = defaultdict(int)
    for trader, chain, scope, key, action, t, block, log, seq, size_after, coll_after, pnl in rows:
        opens[(chain, scope, key)] += action == "OPEN"
        life = (chain, scope, key, opens[(chain, scope, key)])
        lifecycle_pnl[life] += pnl
        lifecycle_of.append(life)
        p = per[trader]
        p["trades"] += action in SIZE_ACTIONS
        p["pnl"] += pnl
        if action in ("OPEN", "INCREASE") and coll_after and coll_after > 0:
            p["lev"].append(size_after / coll_after)
        if action == "OPEN":
            p["coll"].append(coll_after)
        if action in ("CLOSE", "LIQUIDATE"):
            p["closes"].append(((t, chain, block, log, seq), life))
    out = {}
    for trader, p in per.items():
        closed = [lifecycle_pnl[life] for _, life in sorted(p["closes"])]
        mean = lambda xs: sum(xs) / len(xs) if xs else None
        out[trader] = (p["trades"], len(closed), p["pnl"], mean(p["lev"]), mean(p["coll"]), closed)
    return out


def test_leader_stats_match_a_recomputation_from_the_event_log(warehouse):
    for platform in ("gmx", "gtrade", "synthetix"):
        got = leader_stats(warehouse, platform, MIDDLE, 1.5)
        expected = recomputed_stats(warehouse, platform, MIDDLE, 1.5)
        assert [s.trader for s in got] == sorted(expected)
        assert any(s.closed_positions >= 2 for s in got)
        for s in got:
            trades, closed, pnl, lev, coll, series = expected[s.trader]
            assert (s.trades, s.closed_positions) == (trades, closed)
            assert s.realized_pnl == pytest.approx(pnl, abs=1e-6)
            for value, want in ((s.avg_leverage, lev), (s.avg_open_collateral, coll), *zip((s.r2, s.slope), trend(series))):
                assert value == want if want is None else value == pytest.approx(want)
            assert list(s.closed_pnl) == pytest.approx(series, abs=1e-6)


def test_selection_filters_and_count_on_real_data(warehouse):
    every = {s.trader: s for s in leader_stats(warehouse, "gmx", MIDDLE, 2)}
    criteria = SelectionCriteria(lookback_days=2, count=4, min_trades=3, max_leverage=30, min_avg_collateral_usd=100)
    chosen = select_leaders(warehouse, "gmx", MIDDLE, criteria)
    assert 0 < len(chosen) <= 4
    for trader in chosen:
        s = every[trader]
        assert s.trades >= 3 and s.avg_leverage <= 30 and s.avg_open_collateral >= 100
    passing = sorted((s for s in every.values() if s.trades >= 3 and s.avg_leverage is not None
                      and s.avg_leverage <= 30 and (s.avg_open_collateral or 0) >= 100),
                     key=lambda s: (-s.realized_pnl, s.trader))
    assert chosen == [s.trader for s in passing[:4]]
    smooth = select_leaders(warehouse, "gmx", MIDDLE, SelectionCriteria(lookback_days=2, count=50, min_r2=0.5))
    assert smooth and all(every[t].r2 is not None and every[t].r2 >= 0.5 for t in smooth)
    with pytest.raises(ValueError, match="platform"):
        select_leaders(warehouse, "dydx", MIDDLE, criteria)


def test_auto_plan_uses_standard_collateral(warehouse):
    criteria = SelectionCriteria(lookback_days=2, count=3)
    base = CopySettings(sizing="ratio", ratio=3.0, fixed_collateral_usd=321.0, stop_loss_pct=20)
    leaders, settings = auto_plan(warehouse, "gmx", MIDDLE, MIDDLE + timedelta(days=1), criteria, base)
    assert leaders == select_leaders(warehouse, "gmx", MIDDLE, criteria) and len(leaders) == 3
    assert settings.sizing == "fixed" and settings.fixed_collateral_usd == 321.0 and settings.stop_loss_pct == 20
    with pytest.raises(ValueError, match="end must be after start"):
        auto_plan(warehouse, "gmx", MIDDLE, MIDDLE, criteria, base)


def copy_row(conn: psycopg.Connection, event_id: str, trader: str, at: datetime, pnl: float, source: str) -> None:
    """Insert a copy of event ``source`` as another trader's, at ``at``, with realized PnL ``pnl``."""
    columns = [r[0] for r in conn.execute(
        "select column_name from information_schema.columns"
        " where table_schema = 'analytics' and table_name = 'perp_trading_event_log' order by ordinal_position"
    ).fetchall()]
    changed = {"event_id": "%(event_id)s", "trader": "%(trader)s", "block_time": "%(at)s",
               "realized_pnl_usd": "%(pnl)s", "position_key": "%(trader)s"}
    select = ", ".join(changed.get(c, c) for c in columns)
    conn.execute(f"insert into analytics.perp_trading_event_log ({', '.join(columns)})"
                 f" select {select} from analytics.perp_trading_event_log where event_id = %(source)s",
                 {"event_id": event_id, "trader": trader, "at": at, "pnl": pnl, "source": source})


def test_no_look_ahead(warehouse, scratch):
    """Rewriting everything at or after the window start never changes the selection; the
    same kind of change before the start does (so this test can fail)."""
    criteria = SelectionCriteria(lookback_days=2, count=3, min_trades=1)
    chosen = select_leaders(warehouse, "gmx", MIDDLE, criteria)
    before = leader_stats(warehouse, "gmx", MIDDLE, 2)
    assert len(chosen) == 3
    later = {r[0] for r in warehouse.execute(
        "select distinct trader from analytics.perp_trading_event_log where platform = 'gmx' and block_time >= %s",
        (MIDDLE,)).fetchall()}
    outsider = next(s.trader for s in before if s.trader not in chosen and s.trader in later and s.trades >= 1)
    close_event = warehouse.execute(
        "select event_id from analytics.perp_trading_event_log where platform = 'gmx' and action = 'CLOSE'"
        " order by block_time limit 1").fetchone()[0]

    with scratch() as conn:
        # an outsider becomes hugely profitable from the start on; the leaders stop trading
        n = conn.execute("update analytics.perp_trading_event_log set realized_pnl_usd = 1e9"
                         " where trader = %s and block_time >= %s", (outsider, MIDDLE)).rowcount
        assert n > 0
        n = conn.execute("delete from analytics.perp_trading_event_log where trader = any(%s) and block_time >= %s",
                         (chosen, MIDDLE)).rowcount
        assert n > 0
        # a newcomer closes a $1B winner exactly at the start (the boundary is exclusive) and later
        copy_row(conn, "lookahead-1", NEWCOMER, MIDDLE, 5e8, close_event)
        copy_row(conn, "lookahead-2", NEWCOMER, MIDDLE + timedelta(hours=3), 5e8, close_event)
        # and every later event of the outsider moved to exactly the start
        conn.execute("update analytics.perp_trading_event_log set block_time = %s"
                     " where trader = %s and block_time >= %s", (MIDDLE, outsider, MIDDLE))

        assert select_leaders(conn, "gmx", MIDDLE, criteria) == chosen
        assert leader_stats(conn, "gmx", MIDDLE, 2) == before
        # the changes are visible: one microsecond later they are in the past and win
        moved = select_leaders(conn, "gmx", MIDDLE + timedelta(microseconds=1), criteria)
        assert moved[:2] == [outsider, NEWCOMER]

    with scratch() as conn:
        # the same outsider, profitable BEFORE the start: now it is chosen first
        conn.execute("update analytics.perp_trading_event_log set realized_pnl_usd = 1e9 where event_id = ("
                     " select event_id from analytics.perp_trading_event_log where trader = %s and block_time < %s"
                     " order by block_time desc limit 1)", (outsider, MIDDLE))
        assert select_leaders(conn, "gmx", MIDDLE, criteria) == [outsider, *chosen[:2]]

    with scratch() as conn:
        # the first leader's history before the start deleted: it is no longer chosen
        conn.execute("delete from analytics.perp_trading_event_log where trader = %s and block_time < %s",
                     (chosen[0], MIDDLE))
        assert chosen[0] not in select_leaders(conn, "gmx", MIDDLE, criteria)
    # and nothing leaked out of the transactions
    assert select_leaders(warehouse, "gmx", MIDDLE, criteria) == chosen


def test_walk_forward_selects_from_the_past_only(warehouse, scratch):
    criteria = SelectionCriteria(lookback_days=1, count=3, min_trades=2)
    base = CopySettings(fixed_collateral_usd=200.0, sizing="ratio")
    variants = [base, base.model_copy(update={"stop_loss_pct": 10.0})]
    end = DAY0 + timedelta(days=4)
    results = walk_forward(warehouse, "gmx", DAY0, end, 1, criteria, variants)

    assert [(w.start, w.end) for w in results] == windows(DAY0, end, 1)
    first = results[0]  # nothing happened before the first day
    assert first.leaders == [] and first.plans == [] and first.metrics is None
    assert "no gmx trader met the criteria" in first.skipped
    ran = [w for w in results if w.skipped is None]
    assert len(ran) >= 2
    for w in results[1:]:
        # the same leaders as a selection on a warehouse where nothing from t on exists
        with scratch() as conn:
            conn.execute("delete from analytics.perp_trading_event_log where block_time >= %s", (w.start,))
            assert w.leaders == select_leaders(conn, "gmx", w.start, criteria)
        assert w.leaders == select_leaders(warehouse, "gmx", w.start, criteria)
        assert w.leaders or w.skipped
    for w in ran:
        assert len(w.plans) == 2 and w.metrics is w.plans[0].metrics
        assert all(p.settings.sizing == "fixed" and p.settings.fixed_collateral_usd == 200.0 for p in w.plans)
        assert [b.leader for b in w.plans[0].bots] == w.leaders
        assert w.metrics.positions > 0
        # the same as simulating the window by hand
        events, prices = load_inputs(warehouse, w.leaders, w.start, w.end, "gmx")
        assert (events.time >= w.start.timestamp()).all() and (events.time < w.end.timestamp()).all()
        again = simulate(events, prices, [p.settings for p in w.plans], end_time=int(w.end.timestamp()))
        assert [p.metrics for p in again] == [p.metrics for p in w.plans]


def test_grid_research_on_real_events(warehouse):
    leaders = [r[0] for r in warehouse.execute(
        "select trader from analytics.perp_trading_event_log where platform = 'gmx' and action = 'OPEN'"
        " group by trader order by count(*) desc, trader limit 5").fetchall()]
    end = DAY0 + timedelta(days=5)
    events, prices = load_inputs(warehouse, leaders, DAY0, end, "gmx")
    assert len(events) > 0
    ranges = {"stop_loss_pct": (10, 40, 10), "ratio": (0.5, 1.5, 0.5)}
    ranked = grid_research(events, prices, CopySettings(), ranges, end_time=int(end.timestamp()))
    assert len(ranked) == 4 * 3
    assert {(p.settings.stop_loss_pct, p.settings.ratio) for p in ranked} == {
        (sl, r) for sl in (10.0, 20.0, 30.0, 40.0) for r in (0.5, 1.0, 1.5)}
    pnl = [p.metrics.net_pnl for p in ranked]
    assert pnl == sorted(pnl, reverse=True) and len({round(x, 6) for x in pnl}) > 1
    by_dd = grid_research(events, prices, CopySettings(), ranges, by="max_drawdown_usd", end_time=int(end.timestamp()))
    dd = [p.metrics.max_drawdown_usd for p in by_dd]
    assert dd == sorted(dd)
    with pytest.raises(GridError, match="by: no metric 'luck'"):
        grid_research(events, prices, CopySettings(), ranges, by="luck")
