"""Reading a plan's inputs from the warehouse (analytics.perp_trading_event_log).

Bound parameters only. Times are UTC; a window is [start, end).
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from copytrade.simulation.events import LeaderEvents, PriceSeries

SIZE_ACTIONS = ("OPEN", "INCREASE", "DECREASE", "CLOSE", "LIQUIDATE")

EVENTS_SQL = """
select
    extract(epoch from block_time)::bigint as time,
    trader as leader,
    chain_id::text || ':' || position_scope || ':' || position_key || ':' || sum(case when action = 'OPEN' then 1 else 0 end)
        over (partition by chain_id, position_scope, position_key
              order by block_number, log_index, action_seq) as position_uid,
    market, platform, is_long, action,
    size_delta_usd::float8 as size_delta, size_after_usd::float8 as size_after,
    collateral_after_usd::float8 as collateral_after, price::float8 as price, fee_usd::float8 as fee,
    funding_usd::float8 as funding, realized_pnl_usd::float8 as realized_pnl
from analytics.perp_trading_event_log
where trader = any(%(leaders)s)
  and (%(platform)s::text is null or platform = %(platform)s)
  and block_time >= %(start)s and block_time < %(end)s
  and action = any(%(actions)s)
order by block_time, block_number, log_index, action_seq
"""

PRICES_SQL = """
select extract(epoch from block_time)::bigint, market, price::float8
from analytics.perp_trading_event_log
where market = any(%(markets)s) and block_time >= %(start)s and block_time < %(end)s
  and action = any(%(actions)s) and price > 0
order by block_time, block_number, log_index, action_seq
"""

BASELINE_SQL = """
select trader, avg(collateral_after_usd)::float8
from analytics.perp_trading_event_log
where trader = any(%(leaders)s) and (%(platform)s::text is null or platform = %(platform)s)
  and action = 'OPEN' and block_time < %(start)s
group by trader
"""


class UnknownLeader(ValueError):
    """A leader with no trade at all in the warehouse (for the platform asked)."""


def known_leaders(conn: psycopg.Connection, leaders: list[str], platform: str | None) -> set[str]:
    rows = conn.execute(
        "select distinct trader from analytics.perp_trading_event_log"
        " where trader = any(%(leaders)s) and (%(platform)s::text is null or platform = %(platform)s)",
        {"leaders": leaders, "platform": platform},
    ).fetchall()
    return {r[0] for r in rows}


def load_inputs(conn: psycopg.Connection, leaders: list[str], start: datetime, end: datetime,
                platform: str | None = None) -> tuple[LeaderEvents, PriceSeries]:
    """The leaders' positions opened in [start, end) and every trade price of their markets.

    Raises UnknownLeader naming the leaders the warehouse has never seen."""
    leaders = [leader.lower() for leader in leaders]
    missing = sorted(set(leaders) - known_leaders(conn, leaders, platform))
    if missing:
        raise UnknownLeader(f"leaders: no trades of {', '.join(missing)}"
                            + (f" on {platform}" if platform else "") + " in the warehouse")
    params = {"leaders": leaders, "platform": platform, "start": start, "end": end, "actions": list(SIZE_ACTIONS)}
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute(EVENTS_SQL, params).fetchall()
    baseline = dict(conn.execute(BASELINE_SQL, params).fetchall())
    events = LeaderEvents.from_rows(rows, leaders=leaders, leader_baseline=baseline)
    prices = PriceSeries.from_rows(
        conn.execute(PRICES_SQL, {**params, "markets": events.markets}).fetchall(), events.markets
    )
    return events, prices
