"""The market scenario: traders acting on price paths, time-stepped so any span fits in memory.

Each trader is a small state machine (idle -> holding a position with a plan -> idle). The
engine advances every trader to the end of a chunk (a day), collecting the :class:`Step`s
its venue produces, then hands the chunk, sorted by block, to the emitter. Between planned
actions it scans the minute bars for stop-loss, take-profit and liquidation crossings.

Time: actions happen at continuous times (a bar's second); they are put on chain in the
block that closes their batch window (``window`` seconds, a multiple of the block time), so
the ledger and the venue math use that block's timestamp. Several actions of one position
can share a block; their order is kept.

Determinism: every random draw comes from a per-trader generator seeded from (seed, trader),
so the same inputs give the same chain whatever the chunking.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from eth_utils import keccak

from copytrade.devchain.model import USD_E6, Action, Intent, Step, Trigger, Venue, VenuePosition
from copytrade.devchain.prices import PricePath
from copytrade.devchain.traders import Style, Trader

FLIP_PROBABILITY = 0.3  # of a planned close on a netting venue (Synthetix) being a flip


@dataclass(frozen=True)
class Clock:
    """Block numbers and times: block ``n`` is at ``genesis + block_time * n``."""

    genesis: int
    block_time: int
    window: int

    def block_of(self, time: int) -> int:
        """The block that carries an action taken at ``time``: the end of its batch window."""
        end = ((time - self.genesis) // self.window + 1) * self.window
        return end // self.block_time

    def time_of(self, block: int) -> int:
        return self.genesis + block * self.block_time


@dataclass
class Planned:
    time: int
    action: Action
    fraction: float = 0.0  # of the current size (DECREASE) or of the collateral (moves)
    trigger: Trigger = Trigger.MARKET


@dataclass
class TraderState:
    trader: Trader
    rng: np.random.Generator
    next_open: int
    position: VenuePosition | None = None
    path: PricePath | None = None
    plan: deque[Planned] = field(default_factory=deque)
    stop: int | None = None  # price_e8 levels
    take: int | None = None
    scan_from: int = 0
    leverage10: int = 10
    seq: int = 0


class Scenario:
    def __init__(
        self,
        traders: list[Trader],
        venues: dict[str, Venue],
        paths: dict[str, PricePath],
        clock: Clock,
        start: int,
        end: int,
        seed: int,
        early_bird_until: int,
    ) -> None:
        self.venues = venues
        self.paths = paths
        self.clock = clock
        self.start = start
        self.end = end
        self.early_bird_until = early_bird_until
        self.states = []
        for t in traders:
            rng = np.random.Generator(
                np.random.PCG64(int.from_bytes(keccak(text=f"{seed}:trader:{t.index}")[:8], "big"))
            )
            state = TraderState(t, rng, next_open=start)
            state.next_open = self._first_open(state)
            self.states.append(state)
        self.positions_opened = 0
        self.rejected = 0

    # -- public --------------------------------------------------------------------------
    def advance(self, until: int) -> list[Step]:
        """Every trader's steps with action times < ``until``, in emission order."""
        steps: list[tuple[tuple, Step]] = []
        for state in self.states:
            for time, step in self._advance_trader(state, min(until, self.end)):
                state.seq += 1
                steps.append(((step.intent.block, time, state.trader.index, state.seq), step))
        steps.sort(key=lambda pair: pair[0])
        return [s for _, s in steps]

    @staticmethod
    def position_uid(position: VenuePosition) -> str:
        return position.uid

    # -- trader state machine ----------------------------------------------------------------
    def _first_open(self, state: TraderState) -> int:
        if state.trader.style.name == "early_bird":
            return self.start + int(state.rng.integers(60, 3_600))
        return self.start + self._gap(state)

    def _gap(self, state: TraderState) -> int:
        rate = state.trader.style.positions_per_day / 86_400
        return max(60, int(state.rng.exponential(1 / rate)))

    def _advance_trader(self, state: TraderState, until: int):
        while True:
            if state.position is None:
                if state.next_open >= until:
                    return
                yield from self._open(state)
                continue
            next_planned = state.plan[0].time if state.plan else None
            horizon = min(until, next_planned) if next_planned is not None else until
            triggered = self._scan(state, horizon)
            if triggered is not None:
                yield from triggered
                continue
            if next_planned is None or next_planned >= until:
                state.scan_from = max(state.scan_from, until)
                return
            yield from self._execute(state, state.plan.popleft())

    def _intent(self, state: TraderState, action: Action, time: int, **kw) -> Intent:
        block = self.clock.block_of(time)
        return Intent(action, self.clock.time_of(block), block, state.path.at(time), **kw)

    def _apply(self, state: TraderState, time: int, intent: Intent):
        """Apply atomically: a venue that refuses the intent leaves the position unchanged."""
        saved = copy.copy(state.position.__dict__)
        try:
            steps = state.position.apply(intent)
        except ValueError:
            state.position.__dict__.update(saved)
            self.rejected += 1
            return []
        for step in steps:
            if getattr(step.position, "uid", None) is None:
                self.positions_opened += 1
                step.position.uid = f"{state.trader.index}-{intent.block}-{self.positions_opened}"
        return [(time, s) for s in steps]

    def _open(self, state: TraderState):
        trader, rng = state.trader, state.rng
        time = state.next_open
        market = trader.markets[min(int(rng.geometric(0.55)) - 1, len(trader.markets) - 1)]
        state.path = self.paths[market]
        hold = self._hold(state, time)
        is_long = self._side(state, time, hold)
        collateral_e6, size_e6 = self._sizing(state)
        venue = self.venues[trader.venue_key]
        state.position = venue.open_position(trader.address, state.path.market, is_long)
        opened = self._apply(
            state, time,
            self._intent(state, Action.OPEN, time, size_delta_e6=size_e6, collateral_delta_e6=collateral_e6),
        )
        if not opened:
            state.position = None
            state.next_open = time + self._gap(state)
            return
        yield from opened
        self._plan(state, time, hold)

    def _side(self, state: TraderState, time: int, hold: int) -> bool:
        """Skill as foresight: pick the side of the move over the holding period, or not."""
        path = state.path
        future = path.at(min(time + hold, path.time_of(len(path.prices_e8) - 1)))
        up = future >= path.at(time)
        return up if state.rng.random() < state.trader.style.skill else not up

    def _sizing(self, state: TraderState) -> tuple[int, int]:
        """(collateral, size) in USD e6 for a new position; sets the trader's leverage."""
        style, rng = state.trader.style, state.rng
        lo, hi = style.leverage
        state.leverage10 = int(round(rng.uniform(lo, hi) * 10))
        collateral_e6 = self._collateral(rng, style)
        return collateral_e6, collateral_e6 * state.leverage10 // 10

    def _plan(self, state: TraderState, time: int, hold: int) -> None:
        """Stops and the planned life of the position just opened at ``time``."""
        style, rng, pos = state.trader.style, state.rng, state.position
        entry = state.path.at(time)
        sign = 1 if pos.is_long else -1
        state.stop = int(entry * (1 - sign * rng.uniform(*style.stop_loss))) if style.stop_loss else None
        state.take = int(entry * (1 + sign * rng.uniform(*style.take_profit))) if style.take_profit else None
        state.scan_from = time + 1
        plan = [Planned(time + hold, Action.CLOSE)]
        if rng.random() < style.p_increase:
            plan.append(Planned(time + int(hold * rng.uniform(0.1, 0.5)), Action.INCREASE, rng.uniform(0.3, 1.0)))
        if rng.random() < style.p_partial_close:
            for _ in range(style.partial_closes):
                plan.append(Planned(time + int(hold * rng.uniform(0.5, 0.95)), Action.DECREASE, rng.uniform(0.2, 0.4)))
        if rng.random() < style.p_collateral_move:
            move = Action.COLLATERAL_DEPOSIT if rng.random() < 0.6 or state.leverage10 > 50 else Action.COLLATERAL_WITHDRAW
            plan.append(Planned(time + int(hold * rng.uniform(0.1, 0.9)), move, rng.uniform(0.1, 0.25)))
        state.plan = deque(sorted(plan, key=lambda p: p.time))

    def _hold(self, state: TraderState, time: int) -> int:
        style = state.trader.style
        if style.name == "early_bird" and time < self.early_bird_until:
            # opened before the indexed range and held well into it
            return int(state.rng.uniform(0.3, 0.6) * (self.end - self.start))
        median = style.hold_median_hours * 3_600
        return max(120, int(state.rng.lognormal(math.log(median), style.hold_sigma)))

    @staticmethod
    def _collateral(rng: np.random.Generator, style: Style) -> int:
        lo, hi = style.collateral_usd
        mu, sigma = (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / 3.3
        usd = min(max(rng.lognormal(mu, sigma), lo / 2), hi * 2)
        return int(round(usd * 100)) * (USD_E6 // 100)

    def _scan(self, state: TraderState, horizon: int):
        """Stop-loss, take-profit or liquidation between ``scan_from`` and ``horizon``."""
        pos, path = state.position, state.path
        last = path.time_of(len(path.prices_e8) - 1)
        while state.scan_from < min(horizon, last):
            t0 = state.scan_from
            liq = pos.liquidation_price_e8(self.clock.time_of(self.clock.block_of(t0)))
            if pos.is_long:
                below = max(x for x in (liq, state.stop, 0) if x is not None)
                above = state.take
            else:
                candidates = [x for x in (liq, state.stop) if x is not None]
                above = min(candidates) if candidates else None
                below = state.take
            i = path.first_cross(t0, min(horizon, last), below or None, above)
            if i is None:
                state.scan_from = min(horizon, last)
                return None
            time = path.time_of(i)
            price = int(path.prices_e8[i])
            block = self.clock.block_of(time)
            if pos.is_liquidatable(self.clock.time_of(block), price):
                return self._finish(state, time, Action.LIQUIDATE, Trigger.LIQUIDATION)
            stop_hit = state.stop is not None and (price <= state.stop if pos.is_long else price >= state.stop)
            take_hit = state.take is not None and (price >= state.take if pos.is_long else price <= state.take)
            if stop_hit:
                return self._finish(state, time, Action.CLOSE, Trigger.STOP_LOSS)
            if take_hit:
                return self._finish(state, time, Action.CLOSE, Trigger.TAKE_PROFIT)
            state.scan_from = path.time_of(i + 1)  # liquidation price reached early: keep looking
        return None

    def _finish(self, state: TraderState, time: int, action: Action, trigger: Trigger) -> list:
        steps = self._apply(state, time, self._intent(state, action, time, trigger=trigger))
        if not steps and action is Action.CLOSE:
            steps = self._apply(state, time, self._intent(state, Action.LIQUIDATE, time, trigger=Trigger.LIQUIDATION))
        steps += self._after_close(state, time)
        self._idle(state, time)
        return steps

    def _flip(self, state: TraderState, time: int) -> list:
        """Close and open the other side in one trade (venues that net per account)."""
        hold = self._hold(state, time)
        collateral_e6, size_e6 = self._sizing(state)
        margin_e6 = int(state.position.collateral_usd * USD_E6)
        top_up = max(0, collateral_e6 - margin_e6) // 10_000 * 10_000
        intent = self._intent(state, Action.CLOSE, time, flip_size_e6=size_e6, flip_collateral_e6=top_up)
        steps = self._apply(state, time, intent)
        opened = [s for _, s in steps if s.action is Action.OPEN and s.position is not state.position]
        if not opened:
            return steps  # refused: the caller closes normally
        state.position = opened[0].position
        self._plan(state, time, hold)
        return steps

    def _after_close(self, state: TraderState, time: int) -> list:
        """Venues that keep margin after a close (Synthetix) get it withdrawn."""
        pos = state.position
        if getattr(pos, "keeps_margin_after_close", False) and pos.collateral_usd > 0:
            amount = int(pos.collateral_usd * USD_E6)
            return self._apply(state, time, self._intent(state, Action.COLLATERAL_WITHDRAW, time, collateral_delta_e6=amount))
        return []

    def _idle(self, state: TraderState, time: int) -> None:
        state.position = None
        state.plan.clear()
        state.stop = state.take = None
        state.next_open = time + self._gap(state)

    def _execute(self, state: TraderState, planned: Planned):
        pos, time = state.position, planned.time
        if time >= state.path.time_of(len(state.path.prices_e8) - 1):
            state.plan.clear()
            return []
        block_time = self.clock.time_of(self.clock.block_of(time))
        if pos.is_liquidatable(block_time, state.path.at(time)):
            return self._finish(state, time, Action.LIQUIDATE, Trigger.LIQUIDATION)
        if planned.action is Action.CLOSE:
            if getattr(pos, "keeps_margin_after_close", False) and state.rng.random() < FLIP_PROBABILITY:
                flipped = self._flip(state, time)
                if flipped:
                    return flipped
            return self._finish(state, time, Action.CLOSE, planned.trigger)
        size_e6 = int(pos.size_usd * USD_E6)
        collateral_e6 = int(pos.collateral_usd * USD_E6)
        if planned.action is Action.INCREASE:
            add = int(size_e6 * planned.fraction) // 10_000 * 10_000
            intent = self._intent(state, Action.INCREASE, time, size_delta_e6=add,
                                  collateral_delta_e6=add * 10 // state.leverage10 // 10_000 * 10_000)
        elif planned.action is Action.DECREASE:
            cut = int(size_e6 * planned.fraction) // 10_000 * 10_000
            intent = self._intent(state, Action.DECREASE, time, size_delta_e6=cut)
        else:
            amount = int(collateral_e6 * planned.fraction) // 10_000 * 10_000
            intent = self._intent(state, planned.action, time, collateral_delta_e6=amount)
        if intent.size_delta_e6 == 0 and intent.collateral_delta_e6 == 0:
            return []
        return self._apply(state, time, intent)
