"""A plain per-event, per-variant Python replay: the semantics of engine.py, written the
obvious way (dicts, one settings object at a time, no slots, no compiled code). The
property tests hold the vectorized engine equal to it."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from copytrade.simulation.events import CLOSE, INCREASE, LIQUIDATE, OPEN, LeaderEvents, PriceSeries
from copytrade.simulation.settings import CopySettings


@dataclass
class Position:
    pos: int
    bot: int
    market: int
    platform: int
    side: float
    size: float
    qty: float
    qty_ref: float
    margin: float
    net: float = 0.0
    open: bool = True


@dataclass
class Bot:
    cash: float
    equity: float
    peak: float
    stats: dict = field(default_factory=dict)


def run_reference(events: LeaderEvents, prices: PriceSeries, s: CopySettings) -> tuple[list[dict], dict]:
    """Per-bot stats (names of engine.STATS) and the plan's peak / drawdowns, for one settings."""
    n_bots = len(events.leaders)
    capital = s.initial_capital_usd
    bots = [Bot(capital, capital, capital, {k: 0.0 for k in (
        "gross_pnl", "fees", "funding", "slippage", "trades", "positions", "wins", "losses", "win_usd",
        "loss_usd", "liquidations", "stops", "takes", "max_drawdown_usd", "max_drawdown_pct", "leader_pnl",
        "open_positions")}) for _ in range(n_bots)]
    plan = {"equity": capital * n_bots, "peak": capital * n_bots, "dd": 0.0, "dd_pct": 0.0}
    copies: dict[int, Position | None] = {}  # leader position -> our copy (None: not copied)
    open_copies: dict[int, Position] = {}
    leader: dict[int, dict] = {}
    marks: dict[int, float] = {}
    max_coll = math.inf if s.max_collateral_usd is None else s.max_collateral_usd
    max_margin = math.inf if s.max_margin_per_position_usd is None else s.max_margin_per_position_usd
    reverse = s.mode == "reverse"

    def fee_rate(platform: int) -> float:
        return s.fee_for(events.platforms[platform]) / 1e4

    def slip(notional: float) -> float:
        return (s.slippage_bps + s.impact_bps_per_million * notional / 1e6) / 1e4

    def equity(b: int) -> float:
        """Cash + margins + unrealized PnL of the bot's open copies at the latest marks."""
        return bots[b].cash + sum(p.margin + pnl(p, p.qty, p.size, marks[p.market])
                                  for p in open_copies.values() if p.bot == b)

    def evaluate(which: set[int]) -> None:
        """Equity, peaks and drawdowns of these bots and of the plan (all bots, fresh)."""
        for b in which:
            bot = bots[b]
            bot.equity = equity(b)
            bot.peak = max(bot.peak, bot.equity)
            dd = bot.peak - bot.equity
            bot.stats["max_drawdown_usd"] = max(bot.stats["max_drawdown_usd"], dd)
            if bot.peak > 0:
                bot.stats["max_drawdown_pct"] = max(bot.stats["max_drawdown_pct"], dd / bot.peak)
        total = sum(equity(b) for b in range(n_bots))
        plan["peak"] = max(plan["peak"], total)
        pdd = plan["peak"] - total
        plan["dd"] = max(plan["dd"], pdd)
        if plan["peak"] > 0:
            plan["dd_pct"] = max(plan["dd_pct"], pdd / plan["peak"])

    def pnl(p: Position, qty: float, size: float, price: float) -> float:
        return p.side * (qty * price - size)

    def close(p: Position, phi: float, fill: float, ref: float, rate: float, liquidate: bool) -> None:
        bot = bots[p.bot]
        n = phi * p.size
        pnl_fill = pnl(p, phi * p.qty, n, fill)
        pnl_ref = pnl(p, phi * p.qty_ref, n, ref)
        fee = rate * n
        m = phi * p.margin
        if liquidate and pnl_fill <= -m:
            pnl_fill, pnl_ref, fee = -m, max(pnl_ref, -m), 0.0
            bot.stats["liquidations"] += 1
        bot.cash += m + pnl_fill - fee
        bot.stats["gross_pnl"] += pnl_ref
        bot.stats["fees"] += fee
        bot.stats["slippage"] += pnl_ref - pnl_fill
        bot.stats["trades"] += 1
        p.net += pnl_fill - fee
        keep = 1.0 - phi
        p.size *= keep
        p.qty *= keep
        p.qty_ref *= keep
        p.margin *= keep
        if keep == 0.0:
            p.open = False
            del open_copies[p.pos]
            bot.stats["open_positions"] -= 1
            if p.net > 0:
                bot.stats["wins"] += 1
                bot.stats["win_usd"] += p.net
            else:
                bot.stats["losses"] += 1
                bot.stats["loss_usd"] -= p.net

    def observe(m: int, x: float) -> None:
        marks[m] = x
        exited = set()
        for p in list(open_copies.values()):
            if p.market != m:
                continue
            u = pnl(p, p.qty, p.size, x)
            sell = p.side > 0  # closing a long sells, closing a short buys
            if u <= -p.margin:
                close(p, 1.0, x, x, 0.0, True)
            elif (s.stop_loss_pct and u <= -s.stop_loss_pct / 100 * p.margin) or (s.stop_loss_usd and u <= -s.stop_loss_usd):
                f = x * (1 - slip(p.size)) if sell else x * (1 + slip(p.size))
                close(p, 1.0, f, x, fee_rate(p.platform), False)
                bots[p.bot].stats["stops"] += 1
            elif (s.take_profit_pct and u >= s.take_profit_pct / 100 * p.margin) or (s.take_profit_usd and u >= s.take_profit_usd):
                f = x * (1 - slip(p.size)) if sell else x * (1 + slip(p.size))
                close(p, 1.0, f, x, fee_rate(p.platform), False)
                bots[p.bot].stats["takes"] += 1
            else:
                continue
            exited.add(p.bot)
        if exited:
            evaluate(exited)

    by_market: dict[int, tuple[list[int], list[float]]] = {}
    for t_obs, mk, x_obs in zip(prices.time.tolist(), prices.market.tolist(), prices.price.tolist()):
        times, values = by_market.setdefault(mk, ([], []))
        times.append(t_obs)
        values.append(x_obs)

    def reference_price(i: int) -> float:
        if s.copy_delay_seconds == 0 or int(events.market[i]) not in by_market:
            return float(events.price[i])
        times, values = by_market[int(events.market[i])]
        at = bisect.bisect_left(times, int(events.time[i]) + s.copy_delay_seconds)
        return values[min(at, len(values) - 1)]

    def on_event(i: int) -> None:
        pos, b, m = int(events.position[i]), int(events.leader[i]), int(events.market[i])
        a, plat = int(events.action[i]), int(events.platform[i])
        price, after, delta = float(events.price[i]), float(events.size_after[i]), float(events.size_delta[i])
        marks.setdefault(m, price)  # no observation of this market yet: its first trade marks it
        bot = bots[b]
        if a == OPEN:
            leader[pos] = {"size": after, "qty": after / price, "long": bool(events.is_long[i]), "market": m}
            copies[pos] = None
            c_lead = float(events.collateral_after[i])
            lev_lead = after / c_lead if c_lead > 0 else 0.0
            long = bool(events.is_long[i]) != reverse
            allowed = (s.pairs_allow is None or events.markets[m] in s.pairs_allow) and events.markets[m] not in s.pairs_deny
            if not allowed or lev_lead <= 0 or (s.side == "long" and not long) or (s.side == "short" and long):
                return
            if s.max_open_positions is not None and bot.stats["open_positions"] >= s.max_open_positions:
                return
            if s.sizing == "ratio":
                c = s.ratio * c_lead
            elif s.sizing == "fixed":
                c = s.fixed_collateral_usd
            else:
                base = float(events.leader_baseline[b]) if len(events.leader_baseline) else 0.0
                c = c_lead * s.baseline_collateral_usd / base if base > 0 else s.baseline_collateral_usd
            c = min(c, max_coll, max_margin)
            if c < s.min_collateral_usd or c <= 0:
                return
            lev = lev_lead if s.leverage == "follow" else s.fixed_leverage
            lev = min(max(lev, s.min_leverage), s.max_leverage)
            n = c * lev
            fee = fee_rate(plat) * n
            if c + fee > bot.cash:
                return
            r = reference_price(i)
            f = r * (1 + slip(n)) if long else r * (1 - slip(n))
            p = Position(pos, b, m, plat, 1.0 if long else -1.0, n, n / f, n / r, c)
            p.net = -fee
            copies[pos] = p
            open_copies[pos] = p
            bot.cash -= c + fee
            bot.stats["fees"] += fee
            bot.stats["trades"] += 1
            bot.stats["positions"] += 1
            bot.stats["open_positions"] += 1
            bot.stats["leader_pnl"] += float(events.realized_pnl[i])
            return
        lead = leader[pos]
        before = lead["size"]
        phi = 1.0 if a in (CLOSE, LIQUIDATE) else (delta / before if before > 0 else 0.0)
        phi = min(phi, 1.0)
        p = copies[pos]
        if p is not None:
            bot.stats["leader_pnl"] += float(events.realized_pnl[i])
            if p.open:
                long = p.side > 0
                r = reference_price(i)
                rate = fee_rate(plat)
                if s.funding and events.funding[i] != 0.0 and before > 0:
                    fund = float(events.funding[i]) * p.size / before
                    bot.cash -= fund
                    bot.stats["funding"] += fund
                    p.net -= fund
                if a == INCREASE:
                    if before > 0:
                        lev_now = p.size / p.margin
                        add = delta / before * p.size
                        mg = min(add / lev_now, max_margin - p.margin)
                        if mg > 0:
                            add = mg * lev_now
                            fee = rate * add
                            if mg + fee <= bot.cash:
                                f = r * (1 + slip(add)) if long else r * (1 - slip(add))
                                p.qty += add / f
                                p.qty_ref += add / r
                                p.size += add
                                if after < before + delta:
                                    shrink = after / (before + delta)
                                    p.size *= shrink
                                    p.qty *= shrink
                                    p.qty_ref *= shrink
                                p.margin += mg
                                bot.cash -= mg + fee
                                bot.stats["fees"] += fee
                                bot.stats["trades"] += 1
                                p.net -= fee
                elif phi > 0:
                    n = phi * p.size
                    f = r * (1 - slip(n)) if long else r * (1 + slip(n))
                    close(p, phi, f, r, rate, a == LIQUIDATE)
        if a == INCREASE:
            lead["qty"] += delta / price
            if after < before + delta:
                lead["qty"] *= after / (before + delta)
            lead["size"] = after
        elif a in (CLOSE, LIQUIDATE):
            del leader[pos]
        else:
            lead["qty"] *= 1.0 - phi
            lead["size"] = after

    observations = list(zip(prices.time.tolist(), prices.market.tolist(), prices.price.tolist()))
    j = 0
    for i in range(len(events)):
        t = int(events.time[i])
        while j < len(observations) and observations[j][0] <= t:
            observe(observations[j][1], observations[j][2])
            j += 1
        on_event(i)
        evaluate({int(events.leader[i])})
    while j < len(observations):
        observe(observations[j][1], observations[j][2])
        j += 1
    for pos, lead in leader.items():
        p = copies.get(pos)
        if p is None:
            continue
        x = marks[lead["market"]]
        side = 1.0 if lead["long"] else -1.0
        bots[p.bot].stats["leader_pnl"] += side * (lead["qty"] * x - lead["size"])
        if p.open:
            u_ref = pnl(p, p.qty_ref, p.size, x)
            bots[p.bot].stats["gross_pnl"] += u_ref
            bots[p.bot].stats["slippage"] += u_ref - pnl(p, p.qty, p.size, x)
    out = []
    for b, bot in enumerate(bots):
        bot.equity = equity(b)
        out.append({"cash": bot.cash, "equity": bot.equity, "peak": bot.peak, **bot.stats})
    return out, {"peak": plan["peak"], "max_drawdown_usd": plan["dd"], "max_drawdown_pct": plan["dd_pct"]}
