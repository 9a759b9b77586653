"""The replay engine: every settings variant of a plan in one pass over its leaders' events.

Semantics (DESIGN.md §5; the plain reference in tests/simulation/reference.py follows the
same text, and property tests hold the two equal):

- One bot per leader, each with its own account of ``initial_capital_usd``; a plan is the
  sum of its bots. The stream is the leaders' events merged with the price observations;
  an observation at or before an event's time is processed first.
- Observation (market m, price x): marks m at x. Every open follower position in m is
  marked (unrealized u = side * (qty * x - size)); it is liquidated when u <= -margin (loss
  = the margin, no fee), else stopped out when u <= -stop (stop_loss_pct of the margin or
  stop_loss_usd), else takes profit when u >= take (likewise); exits fill at x with
  slippage. After its own exit the follower ignores the rest of that leader position.
- OPEN: skipped when the market is filtered out, the follower's side (the leader's, or the
  other in reverse mode) is filtered out, the bot holds max_open_positions, or the account
  cannot pay margin + fee, or the collateral is below min_collateral_usd. Collateral from
  :func:`order_collateral`, leverage from :func:`follower_leverage` (leader leverage =
  size_after / collateral_after), notional = collateral * leverage.
- INCREASE: the follower adds the same fraction of its size as the leader's order adds to
  the leader's, at its current leverage, within max margin per position and the cash it has.
  When the venue takes its fee out of the position (gTrade: size after < size before + order)
  both positions shrink by that factor at their average entry, without realizing PnL.
- DECREASE: the follower closes the same fraction of its position as the leader; CLOSE and
  LIQUIDATE close it whole (a loss beyond the margin is capped at the margin: a follower
  liquidation).
- Fills: the reference price is the event's price without delay, else the first observed
  price of the market at or after time + delay (the last one if none; the copy is still
  booked in the stream at the leader's event, at that later price); the fill adds
  slippage against the follower; fee = venue bps x notional; funding (when on) = the
  leader's funding on the event x follower size / leader size before it.
- Results: follower PnL at reference prices (realized + unrealized at the window end),
  costs itemized (fees, funding, slippage = PnL at reference prices - PnL at fill prices),
  net PnL = follower PnL - costs = final equity - capital. Equity (cash + margins +
  unrealized at the latest marks; a market without an observation yet is marked at its first
  event's price) is evaluated after every leader event (that bot and the plan) and after
  every observation that made a follower exit (those bots and the plan); max drawdown is
  taken on that time-ordered curve, and sampled every ``curve_interval`` seconds. Leader PnL:
  the leader's realized PnL on the positions the follower copied, plus their unrealized PnL
  at the window end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from copytrade.simulation.events import (
    CLOSE,
    DECREASE,
    INCREASE,
    LIQUIDATE,
    OPEN,
    LeaderEvents,
    PriceSeries,
)
from copytrade.simulation.settings import CopySettings, SideFilter, Sizing
from copytrade.simulation.sizing import (
    fill_price,
    follower_leverage,
    order_collateral,
    position_pnl,
    slippage_fraction,
    unlimited,
)

# per (bot, variant) accumulators, in this order
STATS = (
    "cash", "equity", "gross_pnl", "fees", "funding", "slippage", "trades", "positions", "wins", "losses",
    "win_usd", "loss_usd", "liquidations", "stops", "takes", "peak", "max_drawdown_usd", "max_drawdown_pct",
    "leader_pnl", "open_positions",
)
S = {name: i for i, name in enumerate(STATS)}


@dataclass
class Variants:
    """Settings of V variants as arrays over the variant axis (what the kernel reads)."""

    settings: list[CopySettings]
    reverse: np.ndarray
    sizing: np.ndarray
    ratio: np.ndarray
    fixed_usd: np.ndarray
    baseline_usd: np.ndarray
    follow: np.ndarray
    fixed_lev: np.ndarray
    min_lev: np.ndarray
    max_lev: np.ndarray
    min_coll: np.ndarray
    max_coll: np.ndarray
    max_margin: np.ndarray
    max_open: np.ndarray
    capital: np.ndarray
    side: np.ndarray
    sl_pct: np.ndarray
    sl_usd: np.ndarray
    tp_pct: np.ndarray
    tp_usd: np.ndarray
    delay: np.ndarray
    slip_bps: np.ndarray
    impact: np.ndarray
    funding: np.ndarray
    fee_bps: np.ndarray  # (V, platforms)
    market_ok: np.ndarray  # (V, markets)

    @classmethod
    def build(cls, settings: list[CopySettings], platforms: list[str], markets: list[str]) -> Variants:
        def arr(fn, dtype=np.float64):
            return np.array([fn(s) for s in settings], dtype=dtype)

        def allowed(s: CopySettings, market: str) -> bool:
            return (s.pairs_allow is None or market in s.pairs_allow) and market not in s.pairs_deny

        return cls(
            settings=list(settings),
            reverse=arr(lambda s: s.mode == "reverse", np.bool_),
            sizing=arr(lambda s: int(Sizing[s.sizing.upper()]), np.int64),
            ratio=arr(lambda s: s.ratio),
            fixed_usd=arr(lambda s: s.fixed_collateral_usd),
            baseline_usd=arr(lambda s: s.baseline_collateral_usd),
            follow=arr(lambda s: s.leverage == "follow", np.bool_),
            fixed_lev=arr(lambda s: s.fixed_leverage),
            min_lev=arr(lambda s: s.min_leverage),
            max_lev=arr(lambda s: s.max_leverage),
            min_coll=arr(lambda s: s.min_collateral_usd),
            max_coll=arr(lambda s: unlimited(s.max_collateral_usd)),
            max_margin=arr(lambda s: unlimited(s.max_margin_per_position_usd)),
            max_open=arr(lambda s: s.max_open_positions or 2**31, np.int64),
            capital=arr(lambda s: s.initial_capital_usd),
            side=arr(lambda s: int(SideFilter[s.side.upper()]), np.int64),
            sl_pct=arr(lambda s: s.stop_loss_pct or 0.0),
            sl_usd=arr(lambda s: s.stop_loss_usd or 0.0),
            tp_pct=arr(lambda s: s.take_profit_pct or 0.0),
            tp_usd=arr(lambda s: s.take_profit_usd or 0.0),
            delay=arr(lambda s: s.copy_delay_seconds, np.int64),
            slip_bps=arr(lambda s: s.slippage_bps),
            impact=arr(lambda s: s.impact_bps_per_million),
            funding=arr(lambda s: s.funding, np.bool_),
            fee_bps=np.array([[s.fee_for(p) for p in platforms] for s in settings], dtype=np.float64).reshape(
                len(settings), len(platforms)),
            market_ok=np.array([[allowed(s, m) for m in markets] for s in settings], dtype=np.bool_).reshape(
                len(settings), len(markets)),
        )


@dataclass
class Replay:
    """Raw kernel output: ``stats[bot, variant, STAT]``, equity curves at ``curve_time``."""

    stats: np.ndarray
    curve_time: np.ndarray
    bot_curve: np.ndarray  # (K, bots, V), or (0, bots, V) when not asked for
    plan_curve: np.ndarray  # (K, V)
    plan_stats: np.ndarray  # (V, 3): peak, max drawdown usd, max drawdown pct of the plan
    events: int
    variants: int


def reference_prices(events: LeaderEvents, prices: PriceSeries, delays: np.ndarray) -> np.ndarray:
    """(E, D): the fill reference price of every event for every distinct delay."""
    out = np.empty((len(events), len(delays)), dtype=np.float64)
    order = np.lexsort((prices.time, prices.market))
    p_market, p_time, p_price = prices.market[order], prices.time[order], prices.price[order]
    bounds = np.searchsorted(p_market, np.arange(len(events.markets) + 1))
    for d, delay in enumerate(delays):
        if delay == 0:
            out[:, d] = events.price
            continue
        for m in range(len(events.markets)):
            rows = np.nonzero(events.market == m)[0]
            lo, hi = bounds[m], bounds[m + 1]
            if hi == lo:
                out[rows, d] = events.price[rows]
                continue
            at = np.searchsorted(p_time[lo:hi], events.time[rows] + delay, side="left")
            out[rows, d] = p_price[lo:hi][np.minimum(at, hi - lo - 1)]
    return out


def slots_needed(events: LeaderEvents) -> tuple[np.ndarray, int]:
    """A slot per leader position while it is open (reused after): (slot per event, slots)."""
    slot = np.empty(len(events), dtype=np.int64)
    free: list[int] = []
    taken: dict[int, int] = {}
    count = 0
    for i in range(len(events)):
        p = int(events.position[i])
        if p not in taken:
            if free:
                taken[p] = free.pop()
            else:
                taken[p] = count
                count += 1
        slot[i] = taken[p]
        if events.action[i] in (CLOSE, LIQUIDATE):
            free.append(taken.pop(p))
    return slot, count


def replay(events: LeaderEvents, prices: PriceSeries, variants: Variants, end_time: int | None = None,
           curve_interval: int = 3600, bot_curves: bool = True) -> Replay:
    """Run every variant over the events. ``end_time``: the window end (exclusive)."""
    if len(events) == 0:
        raise ValueError("no leader position opened inside the window: nothing to copy")
    delays, delay_index = np.unique(variants.delay, return_inverse=True)
    ref = reference_prices(events, prices, delays)
    slot, n_slots = slots_needed(events)
    start = int(min(events.time[0], prices.time[0] if len(prices) else events.time[0]))
    end = int(end_time) if end_time is not None else int(max(events.time[-1], prices.time[-1] if len(prices) else 0)) + 1
    curve_time = np.arange(start - start % curve_interval + curve_interval, end, curve_interval, dtype=np.int64)
    curve_time = np.append(curve_time, end)
    V, B = len(variants.settings), len(events.leaders)
    stats, bot_curve, plan_curve, plan_stats = _kernel(
        events.time, events.leader, slot, events.market, events.platform, events.is_long, events.action,
        events.size_delta, events.size_after, events.collateral_after, events.price, events.funding,
        events.realized_pnl, events.leader_baseline if len(events.leader_baseline) == B else np.zeros(B),
        prices.time, prices.market, prices.price, ref, delay_index.astype(np.int64), n_slots, B,
        len(events.markets), curve_time, bot_curves,
        variants.reverse, variants.sizing, variants.ratio, variants.fixed_usd, variants.baseline_usd,
        variants.follow, variants.fixed_lev, variants.min_lev, variants.max_lev, variants.min_coll,
        variants.max_coll, variants.max_margin, variants.max_open, variants.capital, variants.side,
        variants.sl_pct, variants.sl_usd, variants.tp_pct, variants.tp_usd, variants.slip_bps,
        variants.impact, variants.funding, np.ascontiguousarray(variants.fee_bps.T),
        np.ascontiguousarray(variants.market_ok.T),
    )
    return Replay(np.ascontiguousarray(stats.transpose(1, 2, 0)), curve_time, bot_curve, plan_curve, plan_stats,
                  len(events), V)


# stats rows (the kernel keeps stats[row, bot, variant]: contiguous over variants)
CASH, EQUITY, GROSS, FEES, FUNDING, SLIP, TRADES, POSITIONS, WINS, LOSSES, WIN_USD, LOSS_USD, LIQS, STOPS, \
    TAKES, PEAK, DD, DD_PCT, LEADER_PNL, OPEN_POS = range(20)


@njit(cache=True, error_model="numpy")
def _bot_equity(stats, margin_b, agg_q, agg_s, marks, b, v, n_markets):
    """Cash + margins + unrealized PnL of every open copy at the latest marks."""
    eq = stats[CASH, b, v] + margin_b[b, v]
    for m in range(n_markets):
        eq += agg_q[b, m, v] * marks[m] - agg_s[b, m, v]
    return eq


@njit(cache=True, error_model="numpy")
def _track(peak, dd, dd_pct, eq):
    """(peak, max drawdown, max drawdown % of peak) after one more equity point."""
    peak = max(peak, eq)
    fall = peak - eq
    dd = max(dd, fall)
    if peak > 0 and fall / peak > dd_pct:
        dd_pct = fall / peak
    return peak, dd, dd_pct


@njit(cache=True, error_model="numpy")
def _set_bot_equity(stats, b, v, eq):
    stats[EQUITY, b, v] = eq
    stats[PEAK, b, v], stats[DD, b, v], stats[DD_PCT, b, v] = _track(
        stats[PEAK, b, v], stats[DD, b, v], stats[DD_PCT, b, v], eq)


@njit(cache=True, error_model="numpy")
def _evaluate_bot(stats, margin_b, agg_q, agg_s, marks, b, v, n_markets):
    """Equity of bot b in variant v at the latest marks, then its peak and drawdowns."""
    _set_bot_equity(stats, b, v, _bot_equity(stats, margin_b, agg_q, agg_s, marks, b, v, n_markets))


@njit(cache=True, error_model="numpy")
def _evaluate_bot_all(stats, margin_b, agg_q, agg_s, marks, b, V, n_markets, buf):
    """_evaluate_bot for every variant, markets outer so the inner loop runs over variants."""
    for v in range(V):
        buf[v] = stats[CASH, b, v] + margin_b[b, v]
    for m in range(n_markets):
        x = marks[m]
        for v in range(V):
            buf[v] += agg_q[b, m, v] * x - agg_s[b, m, v]
    for v in range(V):
        _set_bot_equity(stats, b, v, buf[v])


@njit(cache=True, error_model="numpy")
def _evaluate_plan_all(plan, plan_cash, plan_margin, plan_q, plan_s, marks, V, n_markets, buf):
    for v in range(V):
        buf[v] = plan_cash[v] + plan_margin[v]
    for m in range(n_markets):
        x = marks[m]
        for v in range(V):
            buf[v] += plan_q[m, v] * x - plan_s[m, v]
    for v in range(V):
        plan[0, v], plan[1, v], plan[2, v] = _track(plan[0, v], plan[1, v], plan[2, v], buf[v])


@njit(cache=True, error_model="numpy")
def _plan_equity(plan_cash, plan_margin, plan_q, plan_s, marks, v, n_markets):
    eq = plan_cash[v] + plan_margin[v]
    for m in range(n_markets):
        eq += plan_q[m, v] * marks[m] - plan_s[m, v]
    return eq


@njit(cache=True, error_model="numpy")
def _evaluate_plan(plan, plan_cash, plan_margin, plan_q, plan_s, marks, v, n_markets):
    plan[0, v], plan[1, v], plan[2, v] = _track(
        plan[0, v], plan[1, v], plan[2, v], _plan_equity(plan_cash, plan_margin, plan_q, plan_s, marks, v, n_markets))


@njit(cache=True, error_model="numpy")
def _bounds(st, side, size, qty, margin, slot_lo, slot_hi, s, V, sl_pct, sl_usd, tp_pct, tp_usd):
    """Prices between which no variant's copy in slot s can exit (liquidation, stop, take):
    observations strictly inside skip the slot. Widened by 1e-9 so that rounding never
    skips an exit the exact test below would take."""
    lo = -np.inf
    hi = np.inf
    for v in range(V):
        if st[s, v] != 1:
            continue
        q = qty[s, v]
        S = size[s, v]
        loss = margin[s, v]
        if sl_pct[v] > 0:
            loss = min(loss, sl_pct[v] / 100.0 * margin[s, v])
        if sl_usd[v] > 0:
            loss = min(loss, sl_usd[v])
        gain = np.inf
        if tp_pct[v] > 0:
            gain = tp_pct[v] / 100.0 * margin[s, v]
        if tp_usd[v] > 0:
            gain = min(gain, tp_usd[v])
        inv = 1.0 / q
        if side[s, v] > 0:
            lo = max(lo, (S - loss) * inv)
            hi = min(hi, (S + gain) * inv)
        else:
            hi = min(hi, (S + loss) * inv)
            lo = max(lo, (S - gain) * inv)
    slot_lo[s] = lo * (1.0 + 1e-9) if lo > 0 else lo * (1.0 - 1e-9)
    slot_hi[s] = hi * (1.0 - 1e-9) if hi > 0 else hi * (1.0 + 1e-9)


@njit(cache=True, error_model="numpy")
def _book(agg_q, agg_s, margin_b, plan_q, plan_s, plan_margin, b, m, v, d_side_q, d_side_s, d_margin):
    """A copy in bot b / market m changed: side x units, side x size and margin deltas."""
    agg_q[b, m, v] += d_side_q
    agg_s[b, m, v] += d_side_s
    margin_b[b, v] += d_margin
    plan_q[m, v] += d_side_q
    plan_s[m, v] += d_side_s
    plan_margin[v] += d_margin


@njit(cache=True, error_model="numpy")
def _close_part(stats, st, side, size, qty, qty_ref, margin, pos_net, agg_q, agg_s, margin_b, plan_q, plan_s,
                plan_margin, plan_cash, b, m, s, v, phi, fill, ref, fee_rate, liquidate):
    """Close fraction phi of slot s for variant v at fill / ref prices."""
    n = phi * size[s, v]
    pnl_fill = position_pnl(side[s, v], phi * qty[s, v], n, fill)
    pnl_ref = position_pnl(side[s, v], phi * qty_ref[s, v], n, ref)
    fee = fee_rate * n
    mg = phi * margin[s, v]
    if liquidate and pnl_fill <= -mg:
        pnl_fill = -mg
        pnl_ref = max(pnl_ref, -mg)
        fee = 0.0
        stats[LIQS, b, v] += 1
    cash = mg + pnl_fill - fee
    stats[CASH, b, v] += cash
    plan_cash[v] += cash
    stats[GROSS, b, v] += pnl_ref
    stats[FEES, b, v] += fee
    stats[SLIP, b, v] += pnl_ref - pnl_fill
    stats[TRADES, b, v] += 1
    pos_net[s, v] += pnl_fill - fee
    keep = 1.0 - phi
    _book(agg_q, agg_s, margin_b, plan_q, plan_s, plan_margin, b, m, v,
          -phi * side[s, v] * qty[s, v], -phi * side[s, v] * size[s, v], -mg)
    size[s, v] *= keep
    qty[s, v] *= keep
    qty_ref[s, v] *= keep
    margin[s, v] *= keep
    if keep == 0.0:
        st[s, v] = 2
        stats[OPEN_POS, b, v] -= 1
        if pos_net[s, v] > 0:
            stats[WINS, b, v] += 1
            stats[WIN_USD, b, v] += pos_net[s, v]
        else:
            stats[LOSSES, b, v] += 1
            stats[LOSS_USD, b, v] -= pos_net[s, v]


@njit(cache=True, error_model="numpy")
def _kernel(ev_time, ev_bot, ev_slot, ev_market, ev_platform, ev_long, ev_action, ev_delta, ev_after, ev_coll,
            ev_price, ev_funding, ev_pnl, leader_baseline, ob_time, ob_market, ob_price, ref, delay_index,
            n_slots, B, n_markets, curve_time, bot_curves,
            reverse, sizing, ratio, fixed_usd, baseline_usd, follow, fixed_lev, min_lev, max_lev, min_coll,
            max_coll, max_margin, max_open, capital, side_filter, sl_pct, sl_usd, tp_pct, tp_usd, slip_bps,
            impact, funding_on, fee_bps, market_ok):
    V = len(reverse)
    E = len(ev_time)
    O = len(ob_time)
    K = len(curve_time)
    stats = np.zeros((20, B, V))
    plan = np.zeros((3, V))  # peak, max dd, max dd pct
    plan_cash = np.zeros(V)
    plan_margin = np.zeros(V)
    for v in range(V):
        for b in range(B):
            stats[CASH, b, v] = capital[v]
            stats[EQUITY, b, v] = capital[v]
            stats[PEAK, b, v] = capital[v]
        plan[0, v] = capital[v] * B
        plan_cash[v] = capital[v] * B
    bot_curve = np.zeros((K if bot_curves else 0, B, V))
    plan_curve = np.zeros((K, V))
    st = np.zeros((n_slots, V), dtype=np.int8)
    side = np.zeros((n_slots, V))
    size = np.zeros((n_slots, V))
    qty = np.zeros((n_slots, V))
    qty_ref = np.zeros((n_slots, V))
    margin = np.zeros((n_slots, V))
    pos_net = np.zeros((n_slots, V))
    agg_q = np.zeros((B, n_markets, V))
    agg_s = np.zeros((B, n_markets, V))
    margin_b = np.zeros((B, V))
    plan_q = np.zeros((n_markets, V))
    plan_s = np.zeros((n_markets, V))
    slot_bot = np.zeros(n_slots, dtype=np.int64)
    slot_market = np.full(n_slots, -1, dtype=np.int64)
    slot_platform = np.zeros(n_slots, dtype=np.int64)
    slot_lo = np.full(n_slots, -np.inf)
    slot_hi = np.full(n_slots, np.inf)
    leader_size = np.zeros(n_slots)
    leader_qty = np.zeros(n_slots)
    leader_long = np.zeros(n_slots, dtype=np.bool_)
    market_slots = np.zeros((n_markets, n_slots), dtype=np.int64)  # open slots per market
    market_count = np.zeros(n_markets, dtype=np.int64)
    marks = np.zeros(n_markets)
    has_mark = np.zeros(n_markets, dtype=np.bool_)
    touched = np.zeros((B, V), dtype=np.bool_)
    plan_touched = np.zeros(V, dtype=np.bool_)
    buf = np.zeros(V)
    i = 0
    j = 0
    k = 0
    while i < E or j < O:
        take_obs = j < O and (i >= E or ob_time[j] <= ev_time[i])
        t = ob_time[j] if take_obs else ev_time[i]
        while k < K and curve_time[k] <= t:
            if bot_curves:
                for b in range(B):
                    for v in range(V):
                        bot_curve[k, b, v] = _bot_equity(stats, margin_b, agg_q, agg_s, marks, b, v, n_markets)
            for v in range(V):
                plan_curve[k, v] = _plan_equity(plan_cash, plan_margin, plan_q, plan_s, marks, v, n_markets)
            k += 1
        if take_obs:
            m = ob_market[j]
            x = ob_price[j]
            marks[m] = x
            has_mark[m] = True
            j += 1
            exited = False
            for idx in range(market_count[m]):
                s = market_slots[m, idx]
                if slot_lo[s] < x < slot_hi[s]:
                    continue
                b = slot_bot[s]
                changed = False
                for v in range(V):
                    if st[s, v] != 1:
                        continue
                    u = position_pnl(side[s, v], qty[s, v], size[s, v], x)
                    mg = margin[s, v]
                    stop = (sl_pct[v] > 0 and u <= -sl_pct[v] / 100.0 * mg) or (sl_usd[v] > 0 and u <= -sl_usd[v])
                    take = (tp_pct[v] > 0 and u >= tp_pct[v] / 100.0 * mg) or (tp_usd[v] > 0 and u >= tp_usd[v])
                    if u <= -mg:
                        _close_part(stats, st, side, size, qty, qty_ref, margin, pos_net, agg_q, agg_s, margin_b,
                                    plan_q, plan_s, plan_margin, plan_cash, b, m, s, v, 1.0, x, x, 0.0, True)
                    elif stop or take:
                        slip = slippage_fraction(slip_bps[v], impact[v], size[s, v])
                        _close_part(stats, st, side, size, qty, qty_ref, margin, pos_net, agg_q, agg_s, margin_b,
                                    plan_q, plan_s, plan_margin, plan_cash, b, m, s, v, 1.0,
                                    fill_price(x, side[s, v] < 0, slip), x, fee_bps[slot_platform[s], v] / 1e4,
                                    False)
                        stats[STOPS if stop else TAKES, b, v] += 1
                    else:
                        continue
                    changed = True
                    touched[b, v] = True
                    plan_touched[v] = True
                if changed:
                    exited = True
                    _bounds(st, side, size, qty, margin, slot_lo, slot_hi, s, V, sl_pct, sl_usd, tp_pct, tp_usd)
            if exited:  # evaluate the bots and plans (per variant) in which a copy exited
                for v in range(V):
                    if not plan_touched[v]:
                        continue
                    for b in range(B):
                        if touched[b, v]:
                            _evaluate_bot(stats, margin_b, agg_q, agg_s, marks, b, v, n_markets)
                            touched[b, v] = False
                    _evaluate_plan(plan, plan_cash, plan_margin, plan_q, plan_s, marks, v, n_markets)
                    plan_touched[v] = False
            continue
        s = ev_slot[i]
        b = ev_bot[i]
        m = ev_market[i]
        a = ev_action[i]
        plat = ev_platform[i]
        if not has_mark[m]:  # no observation of this market yet: its first trade marks it
            marks[m] = ev_price[i]
            has_mark[m] = True
        if a == OPEN:
            slot_bot[s] = b
            slot_market[s] = m
            slot_platform[s] = plat
            leader_size[s] = ev_after[i]
            leader_qty[s] = ev_after[i] / ev_price[i]
            leader_long[s] = ev_long[i]
            market_slots[m, market_count[m]] = s
            market_count[m] += 1
            c_lead = ev_coll[i]
            lev_lead = ev_after[i] / c_lead if c_lead > 0 else 0.0
            for v in range(V):
                st[s, v] = 0
                pos_net[s, v] = 0.0
                long = ev_long[i] != reverse[v]
                if not market_ok[m, v] or lev_lead <= 0:
                    continue
                if (side_filter[v] == 1 and not long) or (side_filter[v] == 2 and long):
                    continue
                if stats[OPEN_POS, b, v] >= max_open[v]:
                    continue
                c = order_collateral(sizing[v], ratio[v], fixed_usd[v], baseline_usd[v], c_lead,
                                     leader_baseline[b], max_coll[v], max_margin[v])
                if c < min_coll[v] or c <= 0:
                    continue
                lev = follower_leverage(follow[v], lev_lead, fixed_lev[v], min_lev[v], max_lev[v])
                n = c * lev
                fee = fee_bps[plat, v] / 1e4 * n
                if c + fee > stats[CASH, b, v]:
                    continue
                r = ref[i, delay_index[v]]
                f = fill_price(r, long, slippage_fraction(slip_bps[v], impact[v], n))
                st[s, v] = 1
                side[s, v] = 1.0 if long else -1.0
                size[s, v] = n
                qty[s, v] = n / f
                qty_ref[s, v] = n / r
                margin[s, v] = c
                pos_net[s, v] = -fee
                stats[CASH, b, v] -= c + fee
                plan_cash[v] -= c + fee
                _book(agg_q, agg_s, margin_b, plan_q, plan_s, plan_margin, b, m, v,
                      side[s, v] * qty[s, v], side[s, v] * n, c)
                stats[FEES, b, v] += fee
                stats[TRADES, b, v] += 1
                stats[POSITIONS, b, v] += 1
                stats[OPEN_POS, b, v] += 1
                stats[LEADER_PNL, b, v] += ev_pnl[i]
            _bounds(st, side, size, qty, margin, slot_lo, slot_hi, s, V, sl_pct, sl_usd, tp_pct, tp_usd)
        else:
            lead_before = leader_size[s]
            phi = 1.0 if a == CLOSE or a == LIQUIDATE else (ev_delta[i] / lead_before if lead_before > 0 else 0.0)
            phi = min(phi, 1.0)
            grown = lead_before + ev_delta[i]
            shrink = ev_after[i] / grown if a == INCREASE and ev_after[i] < grown else 1.0
            for v in range(V):
                if st[s, v] == 0:
                    continue
                stats[LEADER_PNL, b, v] += ev_pnl[i]
                if st[s, v] != 1:
                    continue
                long = side[s, v] > 0
                r = ref[i, delay_index[v]]
                fee_rate = fee_bps[plat, v] / 1e4
                if funding_on[v] and ev_funding[i] != 0.0 and lead_before > 0:
                    fund = ev_funding[i] * size[s, v] / lead_before
                    stats[CASH, b, v] -= fund
                    plan_cash[v] -= fund
                    stats[FUNDING, b, v] += fund
                    pos_net[s, v] -= fund
                if a == INCREASE:
                    if lead_before <= 0:
                        continue
                    lev_now = size[s, v] / margin[s, v]
                    add = ev_delta[i] / lead_before * size[s, v]
                    mg = min(add / lev_now, max_margin[v] - margin[s, v])
                    if mg <= 0:
                        continue
                    add = mg * lev_now
                    fee = fee_rate * add
                    if mg + fee > stats[CASH, b, v]:
                        continue
                    f = fill_price(r, long, slippage_fraction(slip_bps[v], impact[v], add))
                    new_q = (qty[s, v] + add / f) * shrink
                    new_size = (size[s, v] + add) * shrink
                    _book(agg_q, agg_s, margin_b, plan_q, plan_s, plan_margin, b, m, v,
                          side[s, v] * (new_q - qty[s, v]), side[s, v] * (new_size - size[s, v]), mg)
                    qty[s, v] = new_q
                    size[s, v] = new_size
                    qty_ref[s, v] = (qty_ref[s, v] + add / r) * shrink
                    margin[s, v] += mg
                    stats[CASH, b, v] -= mg + fee
                    plan_cash[v] -= mg + fee
                    stats[FEES, b, v] += fee
                    stats[TRADES, b, v] += 1
                    pos_net[s, v] -= fee
                elif phi > 0:
                    slip = slippage_fraction(slip_bps[v], impact[v], phi * size[s, v])
                    _close_part(stats, st, side, size, qty, qty_ref, margin, pos_net, agg_q, agg_s, margin_b,
                                plan_q, plan_s, plan_margin, plan_cash, b, m, s, v, phi,
                                fill_price(r, not long, slip), r, fee_rate, a == LIQUIDATE)
            # the leader's own position
            if a == INCREASE:
                leader_qty[s] = (leader_qty[s] + ev_delta[i] / ev_price[i]) * shrink
                leader_size[s] = ev_after[i]
                _bounds(st, side, size, qty, margin, slot_lo, slot_hi, s, V, sl_pct, sl_usd, tp_pct, tp_usd)
            elif a == DECREASE:
                # the copies shrank in proportion: their exit prices stayed or moved away, so
                # the slot's bounds stay valid (conservative) without recomputing them
                leader_qty[s] *= 1.0 - phi
                leader_size[s] = ev_after[i]
            else:
                leader_size[s] = 0.0
                leader_qty[s] = 0.0
                slot_market[s] = -1
                for idx in range(market_count[m]):
                    if market_slots[m, idx] == s:
                        market_slots[m, idx] = market_slots[m, market_count[m] - 1]
                        market_count[m] -= 1
                        break
        _evaluate_bot_all(stats, margin_b, agg_q, agg_s, marks, b, V, n_markets, buf)
        _evaluate_plan_all(plan, plan_cash, plan_margin, plan_q, plan_s, marks, V, n_markets, buf)
        i += 1
    # the window ends: open copies stay marked; the leader's positions are marked too
    for s in range(n_slots):
        if slot_market[s] < 0:
            continue
        m = slot_market[s]
        b = slot_bot[s]
        x = marks[m]
        lead_u = position_pnl(1.0 if leader_long[s] else -1.0, leader_qty[s], leader_size[s], x)
        for v in range(V):
            if st[s, v] == 0:
                continue
            stats[LEADER_PNL, b, v] += lead_u
            if st[s, v] != 1:
                continue
            u_ref = position_pnl(side[s, v], qty_ref[s, v], size[s, v], x)
            u = position_pnl(side[s, v], qty[s, v], size[s, v], x)
            stats[GROSS, b, v] += u_ref
            stats[SLIP, b, v] += u_ref - u
    for b in range(B):
        for v in range(V):
            stats[EQUITY, b, v] = _bot_equity(stats, margin_b, agg_q, agg_s, marks, b, v, n_markets)
    while k < K:
        if bot_curves:
            for b in range(B):
                for v in range(V):
                    bot_curve[k, b, v] = stats[EQUITY, b, v]
        for v in range(V):
            plan_curve[k, v] = _plan_equity(plan_cash, plan_margin, plan_q, plan_s, marks, v, n_markets)
        k += 1
    return stats, bot_curve, plan_curve, plan.T.copy()
