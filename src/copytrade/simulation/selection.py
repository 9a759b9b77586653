"""Auto selection of leaders (LuckyPlans-style research), with no look-ahead.

A plan for the window [start, end) may let the platform choose its leaders: every trader of
the platform is measured over a lookback that ENDS at the window start, filtered by trade
count, smoothness (R² of the cumulative closed-position PnL), trend (its slope), leverage
and collateral, and the best ``count`` are kept (DESIGN.md §5).

No look-ahead is the point: the statistics come only from
``analytics.perp_trading_event_log`` rows with ``block_time < start``. The positions and
leaderboard marts are NOT used: a position row describes a whole lifecycle (its close and
PnL may lie after the window start), so reading it would leak the future into the choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
import psycopg
from pydantic import BaseModel, ConfigDict, Field, model_validator

from copytrade.simulation.data import SIZE_ACTIONS
from copytrade.simulation.settings import CopySettings

PLATFORMS = ("gmx", "gtrade", "synthetix")


class SelectionCriteria(BaseModel):
    """How to choose leaders. Every bound is optional (None = no bound) and inclusive.

    ``lookback_days`` may be fractional (0.5 = the 12 hours before the window start).
    ``max_leverage`` bounds the leader's AVERAGE leverage on opens and increases.
    A leader whose R² or slope is undefined (fewer than two closed positions) fails any
    R² or slope bound, and ranks last when ranking by it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback_days: float = Field(30.0, gt=0, le=3650)
    count: int = Field(10, ge=1, le=1000)
    min_trades: int | None = Field(None, ge=0)
    max_trades: int | None = Field(None, ge=0)
    min_r2: float | None = Field(None, ge=0, le=1)
    max_r2: float | None = Field(None, ge=0, le=1)
    min_slope: float | None = None
    max_slope: float | None = None
    max_leverage: float | None = Field(None, gt=0)
    min_avg_collateral_usd: float | None = Field(None, ge=0)
    rank_by: Literal["pnl", "r2", "slope"] = "pnl"

    @model_validator(mode="after")
    def _ordered(self) -> SelectionCriteria:
        for low, high in (("min_trades", "max_trades"), ("min_r2", "max_r2"), ("min_slope", "max_slope")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} must not exceed {high}")
        return self


@dataclass(frozen=True)
class LeaderStats:
    """One trader's record over the lookback, every number from events before the cut-off."""

    trader: str
    trades: int  # size actions: opens, increases, decreases, closes, liquidations
    closed_positions: int  # lifecycles whose CLOSE / LIQUIDATE lies in the lookback
    realized_pnl: float  # every realized_pnl_usd in the lookback (after fees and funding)
    avg_leverage: float | None  # size_after / collateral_after on OPEN and INCREASE
    avg_open_collateral: float | None  # collateral_after on OPEN
    closed_pnl: tuple[float, ...]  # per closed position, in close order (its in-lookback PnL)
    r2: float | None  # of the cumulative closed PnL against the close order
    slope: float | None  # USD per closed position

    @property
    def ranking(self) -> dict[str, float | None]:
        return {"pnl": self.realized_pnl, "r2": self.r2, "slope": self.slope}


def trend(pnl: list[float] | tuple[float, ...] | np.ndarray) -> tuple[float | None, float | None]:
    """(R², slope) of the least-squares line through (i, cumulative pnl up to i), i = 1..n.

    A steady earner climbs a straight line (R² near 1, slope = its typical gain per trade);
    a lucky one jumps once (low R²). Undefined (None, None) below two points. A flat curve
    (every point equal) has R² = 1, like PostgreSQL's regr_r2."""
    y = np.cumsum(np.asarray(pnl, dtype=np.float64))
    n = len(y)
    if n < 2:
        return None, None
    x = np.arange(1, n + 1, dtype=np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    sxx, syy, sxy = float(dx @ dx), float(dy @ dy), float(dx @ dy)
    slope = sxy / sxx
    r2 = 1.0 if syy <= 1e-18 * max(1.0, float(y @ y)) else min(1.0, sxy * sxy / (sxx * syy))
    return r2, slope


# Lifecycles are numbered like data.EVENTS_SQL (a running count of OPENs per position key),
# but only over the lookback: rows of a position opened before the lookback fall in lifecycle
# 0 and still end with its CLOSE, so its in-lookback PnL is counted when it closes.
STATS_SQL = """
with ev as (
    select trader, chain_id, position_scope, position_key, action, block_time, block_number, log_index,
           action_seq, size_after_usd, collateral_after_usd, coalesce(realized_pnl_usd, 0) as pnl,
           sum(case when action = 'OPEN' then 1 else 0 end) over (
               partition by chain_id, position_scope, position_key
               order by block_number, log_index, action_seq) as lifecycle
    from analytics.perp_trading_event_log
    where platform = %(platform)s and block_time >= %(since)s and block_time < %(before)s
),
life as (
    select *, sum(pnl) over (partition by chain_id, position_scope, position_key, lifecycle) as life_pnl
    from ev
),
closed as (
    select trader,
           count(*) as closed_positions,
           array_agg(life_pnl::float8 order by block_time, chain_id, block_number, log_index, action_seq)
               as closed_pnl
    from life
    where action in ('CLOSE', 'LIQUIDATE')
    group by trader
),
totals as (
    select trader,
           count(*) filter (where action = any(%(size_actions)s)) as trades,
           sum(pnl)::float8 as realized_pnl,
           avg(size_after_usd / collateral_after_usd)
               filter (where action in ('OPEN', 'INCREASE') and collateral_after_usd > 0)::float8 as avg_leverage,
           avg(collateral_after_usd) filter (where action = 'OPEN')::float8 as avg_open_collateral
    from ev
    group by trader
)
select t.trader, t.trades, coalesce(c.closed_positions, 0), t.realized_pnl, t.avg_leverage,
       t.avg_open_collateral, coalesce(c.closed_pnl, '{}'::float8[])
from totals t left join closed c using (trader)
order by t.trader
"""


def utc(moment: datetime) -> datetime:
    """Aware UTC datetimes only reach SQL: a naive one is taken as UTC (block_time is UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise ValueError(f"platform: must be one of {', '.join(PLATFORMS)}, not {platform!r}")
    return platform


def leader_stats(conn: psycopg.Connection, platform: str, before: datetime,
                 lookback_days: float) -> list[LeaderStats]:
    """Every trader of ``platform`` with an event in [before - lookback_days, before), by address.

    Reads event-log rows strictly before ``before`` and nothing else, so the stats as of a
    moment cannot change when later data arrives or is corrected."""
    before = utc(before)
    params = {"platform": check_platform(platform), "before": before,
              "since": before - timedelta(days=lookback_days), "size_actions": list(SIZE_ACTIONS)}
    out = []
    for trader, trades, closed, pnl, lev, coll, series in conn.execute(STATS_SQL, params).fetchall():
        r2, slope = trend(series)
        out.append(LeaderStats(trader, int(trades), int(closed), float(pnl or 0.0), lev, coll,
                               tuple(series), r2, slope))
    return out


def _within(value: float | None, low: float | None, high: float | None) -> bool:
    """Inside the inclusive bounds; an undefined value passes only when there is no bound."""
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def passes(stats: LeaderStats, criteria: SelectionCriteria) -> bool:
    """Whether one trader meets every bound of the criteria."""
    c = criteria
    return (_within(stats.trades, c.min_trades, c.max_trades)
            and _within(stats.r2, c.min_r2, c.max_r2)
            and _within(stats.slope, c.min_slope, c.max_slope)
            and _within(stats.avg_leverage, None, c.max_leverage)
            and _within(stats.avg_open_collateral, c.min_avg_collateral_usd, None))


def rank_leaders(stats: list[LeaderStats], criteria: SelectionCriteria) -> list[LeaderStats]:
    """The passing traders best first by ``rank_by`` (undefined last, ties by address)."""
    def key(s: LeaderStats) -> tuple[bool, float, str]:
        value = s.ranking[criteria.rank_by]
        return value is None, -(value if value is not None else 0.0), s.trader

    return sorted((s for s in stats if passes(s, criteria)), key=key)


def select_leaders(conn: psycopg.Connection, platform: str, window_start: datetime,
                   criteria: SelectionCriteria) -> list[str]:
    """The best ``criteria.count`` traders of ``platform`` judged on data before ``window_start``."""
    stats = leader_stats(conn, platform, window_start, criteria.lookback_days)
    return [s.trader for s in rank_leaders(stats, criteria)[: criteria.count]]


def standard_collateral(settings: CopySettings) -> CopySettings:
    """The settings with sizing='fixed' at their own ``fixed_collateral_usd``.

    Auto-selected leaders trade at very different sizes; copying each with the same
    collateral per position makes the plan measure their choices, not their bankrolls, and
    keeps one whale from dominating the plan's PnL."""
    return CopySettings.model_validate({**settings.model_dump(), "sizing": "fixed"})


def auto_plan(conn: psycopg.Connection, platform: str, window_start: datetime, window_end: datetime,
              criteria: SelectionCriteria, base_settings: CopySettings) -> tuple[list[str], CopySettings]:
    """(leaders, settings) for a plan over [window_start, window_end) whose leaders are chosen
    from data before window_start, copied with standard collateral (see standard_collateral)."""
    if utc(window_end) <= utc(window_start):
        raise ValueError("window: end must be after start")
    leaders = select_leaders(conn, platform, window_start, criteria)
    return leaders, standard_collateral(base_settings)
