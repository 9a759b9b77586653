"""Synthetix Perps v2 market emulator: each market's position accounting in its own 1e18 units.

Follows Synthetixio/synthetix ``contracts/PerpsV2Market*.sol`` (``PerpsV2MarketBase``):
sUSD margin, signed ``size`` in base-asset units, ``lastPrice`` and amounts with 18 decimals,
one position per account and market. Every modification re-marks the position: the margin
absorbs the price PnL since ``lastPrice`` and the accrued funding, minus the fee
(``_recomputeMarginWithDelta``), then ``lastPrice`` and ``lastFundingIndex`` reset. So PnL is
realized on every modification, including margin transfers, and a close leaves the margin in
the market until the trader withdraws it (``transferMargin``).

Arithmetic is Synthetix's ``multiplyDecimal``: ``x * y / 1e18`` truncated toward zero.

- size from USD: ``size = size_delta_e6 * 1e12 * 1e18 // price`` (floor), price = ``price_e8 * 1e10``.
- price PnL since the last modification: ``pnl = mulDec(size, price - lastPrice)``.
- funding: the market's cumulative funding per unit ``F(t)`` (sUSD per base unit, 1e18) is a
  pure function of time (:class:`FundingClock`); the accrued funding *added to the margin* is
  ``accrued = mulDec(size, F(now) - F(last))``. A positive funding rate makes ``F`` fall, so
  longs pay and shorts receive, as in Synthetix. The ledger's ``funding_usd`` is the cost,
  ``-accrued``.
- fee: 0.05% taker fee, ``fee = |mulDec(mulDec(tradeSize, price), 0.0005e18)|``.
- liquidation: liquidatable when ``remainingMargin = margin + pnl + accrued <= liquidationMargin``
  = 0.35% of notional + 20 sUSD, made of ``buffer = mulDec(notional, 0.0025e18)``,
  ``flaggerFee = mulDec(notional, 0.001e18)`` and ``liquidatorFee`` = 20 sUSD (the keeper fee),
  notional = ``mulDec(|size|, price)``. At liquidation the flagger and the liquidator are paid
  and the stakers get the rest: ``stakersFee = max(remainingMargin - flaggerFee - liquidatorFee, 0)``
  (PerpsV2MarketLiquidate). The trader loses the whole margin.

Events per op (the contract ``SynthetixPerpsV2Market``), anchor marked with *:
  trade (OPEN, INCREASE, DECREASE, CLOSE, flip):  FundingRecomputed, *PositionModified
  margin transfer (COLLATERAL_DEPOSIT/WITHDRAW):   FundingRecomputed, MarginTransferred, *PositionModified
  LIQUIDATE:                                       FundingRecomputed, PositionModified(0s), *PositionLiquidated
The liquidation's PositionModified is the real one: margin, size, tradeSize and fee all 0
(the liquidated size is PositionLiquidated.size).
Ops in blocks >= ``shape_switch_block`` emit the post-April-2023 (Caph, v2.86) shapes:
PositionModified with ``skew`` and the all-non-indexed 8-field PositionLiquidated.

Deliberate simplifications, documented so the ledger stays the single truth:
- Funding is a deterministic function of time (hourly rates, a reference price per market),
  not of the market skew, so positions can be simulated independently. Every op recomputes
  funding (one FundingRecomputed per op, index = the market's running recompute count).
- One taker fee for every trade (no maker fee, dynamic fee, keeper/delayed-order fees, no
  fill-price premium: fills happen at the intent price). A flip pays the fee on the whole
  ``|tradeSize|`` and the ledger books it on the CLOSE half.
- No liquidation premium (skew-based), no minimum keeper fee, no max-leverage check, no
  flag-then-liquidate keeper flow (flagger and liquidator are one address). Trades
  revert (ValueError) when the position is liquidatable before the trade, when the margin
  would turn negative, or when the result would be liquidatable; withdrawals revert when
  they leave an open position liquidatable. Liquidations are not re-checked.
- The old-shape PositionLiquidated ``fee`` carries the total liquidation fee
  ``flaggerFee + liquidatorFee + stakersFee`` (= ``max(remainingMargin, flaggerFee +
  liquidatorFee)``). Real pre-Caph markets emitted only the keeper's fee there and sent the
  rest of the remaining margin to the fee pool without an event; ``max(remainingMargin, fee)``
  gives the total on both.
- Position ids are a per-market counter from 1, assigned (in :meth:`SynthetixVenue.finalize`,
  in emission order) to every trade that takes a size from 0 to non-zero; a flip keeps its id.
  As in Synthetix, a PositionModified of a margin transfer while the size is 0 carries id 0.
  ``position_key`` is the decimal id (unique per market only; both halves of a flip share it).
- Account margin lives in the market, so an account's next position in a market may only
  start after the previous one's margin was withdrawn (or liquidated): :meth:`apply` refuses
  otherwise. Per-position cash identities therefore hold per account and market; a flip
  hands the margin from the old position object to the new one (``extra["carry_out_usd"]`` /
  ``extra["carry_in_usd"]``).

Ledger (:class:`Amounts`, exact decimals from 1e18 units), for every step:
  size_delta_usd = |tradeSize| * price / 1e36 (a flip: |size before| on the CLOSE half,
  |size after| on the OPEN half; a liquidation: |size| * price), size_after_usd =
  |size after| * price / 1e36, price = lastPrice / 1e18, fee_usd = fee / 1e18 (liquidation:
  the total liquidation fee), funding_usd = -accrued / 1e18, realized_pnl_before_fees_usd =
  pnl / 1e18 (liquidation: fee + funding - margin, so realized = -margin), collateral_delta_usd
  = +deposit / -withdrawal, collateral_after_usd = margin after / 1e18. Hence
  ``realized_pnl_usd == margin_after - margin_before - transfer`` on every step.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from eth_utils import keccak

from copytrade.devchain.deploy import deploy
from copytrade.devchain.model import (
    Action,
    Amounts,
    Intent,
    Market,
    RegistryRow,
    Step,
    Venue,
    VenuePosition,
)

UNIT = 10**18
FROM_E8 = 10**10  # price_e8 -> 1e18
FROM_E6 = 10**12  # usd_e6 -> 1e18
TAKER_FEE = 5 * 10**14  # 0.05%
LIQUIDATION_BUFFER_RATIO = 25 * 10**14  # 0.25% of notional: the stakers' cushion
LIQUIDATION_FEE_RATIO = 10 * 10**14  # 0.10% of notional, paid to the flagger
KEEPER_LIQUIDATION_FEE = 20 * UNIT  # paid to the liquidator
LIQUIDATION_MARGIN_RATIO = LIQUIDATION_BUFFER_RATIO + LIQUIDATION_FEE_RATIO  # 0.35%
FUNDING_INTERVAL = 3600
DAY = 86_400

OP_NOOP, OP_TRADE, OP_TRANSFER, OP_LIQUIDATE = 0, 1, 2, 3
N_LOGS = {OP_NOOP: 0, OP_TRADE: 2, OP_TRANSFER: 3, OP_LIQUIDATE: 3}
ANCHOR = {OP_NOOP: 0, OP_TRADE: 1, OP_TRANSFER: 2, OP_LIQUIDATE: 2}

LIQUIDATOR = "0x" + keccak(text="copytrade-devchain-synthetix-liquidator")[12:].hex()
ARTIFACT = "SynthetixPerpsV2Market"
ABI = "synthetix_v2/PerpsV2Market.events.json"  # every event shape of every release
KEY_PREFIX = "synthetix_perps_v2.devchain"


def mul_dec(x: int, y: int) -> int:
    """``SignedSafeDecimalMath.multiplyDecimal``: x * y / 1e18, truncated toward zero."""
    p = x * y
    q = abs(p) // UNIT
    return q if p >= 0 else -q


def usd(value: int) -> Decimal:
    """A 1e18 amount in USD, exactly."""
    return Decimal(value) / UNIT


def usd36(value: int) -> Decimal:
    """A size (1e18) times a price (1e18) in USD, exactly."""
    return Decimal(value) / UNIT**2


def daily_funding_rate(symbol: str, hour: int) -> int:
    """The funding rate (per day, 1e18 = 100%/day) during one hour (deterministic).

    A daily level between -0.02% and +0.10% a day plus an hourly wobble of +-0.01%
    (about -11% .. +40% a year): mostly longs pay, sometimes shorts, as on Synthetix.
    """
    level = keccak(text=f"synthetix-perps-v2-funding-day:{symbol}:{hour // 24}")
    wobble = keccak(text=f"synthetix-perps-v2-funding-hour:{symbol}:{hour}")
    per_million = int.from_bytes(level[:2], "big") % 1_201 - 200 + int.from_bytes(wobble[:2], "big") % 201 - 100
    return per_million * 10**12


class FundingClock:
    """Cumulative funding per unit ``F(t)`` of each market, a pure function of time.

    Within hour ``h`` the rate is ``rate(symbol, h)`` (per day); ``F`` moves by
    ``-trunc(rate * refPrice * seconds / (1 day * 1e18))`` from the start of the hour, where
    ``refPrice`` is the market's reference price (1e18). ``F(genesis hour start) = 0``.
    """

    def __init__(
        self,
        genesis_time: int,
        ref_prices: dict[str, int],
        rate: Callable[[str, int], int] = daily_funding_rate,
    ) -> None:
        self.genesis_hour = genesis_time // FUNDING_INTERVAL
        self.ref_prices = ref_prices
        self.rate_fn = rate
        self._cum: dict[str, list[int]] = {}

    def _move(self, symbol: str, hour: int, seconds: int) -> int:
        num = self.rate_fn(symbol, hour) * self.ref_prices[symbol] * seconds
        mag = abs(num) // (DAY * UNIT)
        return -mag if num > 0 else mag

    def rate(self, symbol: str, time: int) -> int:
        return self.rate_fn(symbol, time // FUNDING_INTERVAL)

    def cumulative(self, symbol: str, time: int) -> int:
        hours = time // FUNDING_INTERVAL - self.genesis_hour
        if hours < 0:
            return 0
        series = self._cum.setdefault(symbol, [0])
        while len(series) <= hours:
            h = self.genesis_hour + len(series) - 1
            series.append(series[-1] + self._move(symbol, h, FUNDING_INTERVAL))
        return series[hours] + self._move(symbol, self.genesis_hour + hours, time % FUNDING_INTERVAL)


class SynthetixPosition(VenuePosition):
    """One position's life on one market; the account's margin in that market while it lives.

    ``size`` is signed (longs > 0). After a CLOSE the position is ``closed`` but keeps its
    margin until a COLLATERAL_WITHDRAW (which then withdraws everything); ``done`` when both
    are 0. The first ``apply`` must be an OPEN (unless the position came out of a flip).
    """

    keeps_margin_after_close = True

    def __init__(self, venue: SynthetixVenue, trader: str, market: Market, is_long: bool) -> None:
        super().__init__(trader, market, is_long, position_key="")
        self.venue = venue
        self.contract_key = venue.contract_key(market.symbol)
        self.margin = 0
        self.size = 0
        self.last_price = 0
        self.last_time = 0
        self.position_id: int | None = None  # assigned in SynthetixVenue.finalize
        self.started = False
        self.flipped_to: SynthetixPosition | None = None

    # -- Synthetix math --------------------------------------------------------------------
    def _funding(self, time: int) -> int:
        return self.venue.funding.cumulative(self.market.symbol, time)

    def _remark(self, time: int, price: int) -> tuple[int, int]:
        """(price pnl, accrued funding) since the last modification, both added to the margin."""
        if self.size == 0:
            return 0, 0
        pnl = mul_dec(self.size, price - self.last_price)
        accrued = mul_dec(self.size, self._funding(time) - self._funding(self.last_time))
        return pnl, accrued

    @staticmethod
    def _liquidation_fees(size: int, price: int) -> tuple[int, int]:
        """(flaggerFee, liquidatorFee) of a liquidation."""
        return mul_dec(mul_dec(abs(size), price), LIQUIDATION_FEE_RATIO), KEEPER_LIQUIDATION_FEE

    @staticmethod
    def _liquidation_margin(size: int, price: int) -> int:
        """buffer + flaggerFee + liquidatorFee: 0.35% of notional + 20 sUSD."""
        notional = mul_dec(abs(size), price)
        return (mul_dec(notional, LIQUIDATION_BUFFER_RATIO) + mul_dec(notional, LIQUIDATION_FEE_RATIO)
                + KEEPER_LIQUIDATION_FEE)

    def _remaining_margin(self, time: int, price: int) -> int:
        pnl, accrued = self._remark(time, price)
        return self.margin + pnl + accrued

    # -- VenuePosition -----------------------------------------------------------------------
    @property
    def size_usd(self) -> Decimal:
        return usd36(abs(self.size) * self.last_price)

    @property
    def collateral_usd(self) -> Decimal:
        return usd(self.margin)

    @property
    def done(self) -> bool:
        return self.closed and self.margin == 0

    def is_liquidatable(self, time: int, price_e8: int) -> bool:
        if self.size == 0:
            return False
        price = price_e8 * FROM_E8
        return self._remaining_margin(time, price) <= self._liquidation_margin(self.size, price)

    def liquidation_price_e8(self, time: int) -> int | None:
        """Where ``margin + size*(p - last) + accrued = |size|*p*0.35% + 20`` (truncation aside)."""
        if self.size == 0:
            return None
        _, accrued = self._remark(time, self.last_price)
        m = self.margin + accrued
        a = abs(self.size)
        if self.size > 0:  # liquidatable at or below
            num = ((KEEPER_LIQUIDATION_FEE - m) * UNIT + a * self.last_price) * UNIT
            den = a * (UNIT - LIQUIDATION_MARGIN_RATIO) * FROM_E8
            return max(num // den, 1)
        num = ((m - KEEPER_LIQUIDATION_FEE) * UNIT + a * self.last_price) * UNIT
        den = a * (UNIT + LIQUIDATION_MARGIN_RATIO) * FROM_E8
        return max(-(-num // den), 1)  # at or above

    def apply(self, intent: Intent) -> list[Step]:
        saved = dict(self.__dict__)
        try:
            steps = self._apply(intent)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        if not self.started:
            self.started = True
        self.venue._latest[(self.trader, self.market.symbol)] = steps[-1].position
        return steps

    def _apply(self, intent: Intent) -> list[Step]:
        action = intent.action
        if self.closed and not (action is Action.COLLATERAL_WITHDRAW and self.margin > 0):
            raise ValueError(f"Synthetix position {self.position_key or id(self)} is closed")
        if not self.started:
            if action is not Action.OPEN:
                raise ValueError("the first action of a Synthetix position must be OPEN")
            previous = self.venue._latest.get((self.trader, self.market.symbol))
            if previous is not None and previous is not self and not previous.done:
                raise ValueError(
                    f"{self.trader} still has a position or margin in {self.market.symbol}: "
                    "close it and withdraw the margin first (Synthetix nets per account and market)"
                )
        price = intent.price_e8 * FROM_E8
        if action is Action.OPEN:
            if self.size != 0:
                raise ValueError("Synthetix OPEN on an open position")
            return self._with_deposit(intent, price, intent.collateral_delta_e6, Action.OPEN)
        if action is Action.INCREASE:
            if self.size == 0:
                raise ValueError("Synthetix INCREASE without a position")
            return self._with_deposit(intent, price, intent.collateral_delta_e6, Action.INCREASE)
        if action is Action.DECREASE:
            delta = self._base_units(intent.size_delta_e6, price)
            if delta == 0 or delta >= abs(self.size):
                raise ValueError("Synthetix DECREASE of nothing or of the whole position (use CLOSE)")
            steps = [self._trade(intent, price, -delta if self.size > 0 else delta, Action.DECREASE)]
            if intent.collateral_delta_e6 > 0:
                steps.append(self._transfer(intent, price, -intent.collateral_delta_e6 * FROM_E6))
            return steps
        if action is Action.CLOSE:
            return self._close(intent, price)
        if action is Action.COLLATERAL_DEPOSIT:
            if intent.collateral_delta_e6 <= 0:
                raise ValueError("Synthetix deposit of nothing")
            return [self._transfer(intent, price, intent.collateral_delta_e6 * FROM_E6)]
        if action is Action.COLLATERAL_WITHDRAW:
            amount = self.margin if self.size == 0 else intent.collateral_delta_e6 * FROM_E6
            if amount <= 0:
                raise ValueError("Synthetix withdrawal of nothing")
            return [self._transfer(intent, price, -amount)]
        if action is Action.LIQUIDATE:
            return [self._liquidate(intent, price)]
        raise ValueError(f"Synthetix cannot {action}")

    # -- steps -----------------------------------------------------------------------------
    @staticmethod
    def _base_units(usd_e6: int, price: int) -> int:
        return usd_e6 * FROM_E6 * UNIT // price

    def _with_deposit(self, intent: Intent, price: int, deposit_e6: int, action: Action) -> list[Step]:
        steps = []
        if deposit_e6 > 0:
            steps.append(self._transfer(intent, price, deposit_e6 * FROM_E6))
        delta = self._base_units(intent.size_delta_e6, price)
        if delta == 0:
            raise ValueError("Synthetix trade of nothing")
        steps.append(self._trade(intent, price, delta if self.is_long else -delta, action))
        return steps

    def _op(self, kind: int, intent: Intent, price: int) -> dict[str, int]:
        """The op's own fields; ``index``, ``id`` and ``skew`` come in :meth:`SynthetixVenue.finalize`."""
        symbol = self.market.symbol
        return {
            "kind": kind,
            "newShape": int(intent.block >= self.venue.shape_switch_block),
            "funding": self.venue.funding.cumulative(symbol, intent.time),
            "fundingRate": self.venue.funding.rate(symbol, intent.time),
            "timestamp": intent.time,
            "account": int(self.trader, 16),
            "lastPrice": price,
        }

    def _step(self, intent: Intent, kind: int, op: dict, action: Action, amounts: Amounts,
              size_before: int, size_after: int, **extra) -> Step:
        return Step(
            intent, self.contract_key, ARTIFACT, op, n_logs=N_LOGS[kind], anchor=ANCHOR[kind],
            action=action, amounts=amounts, position=self,
            extra={"size_before": size_before, "size_after": size_after, **extra},
        )

    def _check_tradeable(self, time: int, price: int) -> None:
        if self.size != 0 and self._remaining_margin(time, price) <= self._liquidation_margin(self.size, price):
            raise ValueError("Synthetix: the position can be liquidated (CanLiquidate)")

    def _trade(self, intent: Intent, price: int, trade_size: int, action: Action) -> Step:
        """One modifyPosition of ``trade_size`` (not a flip: the side never changes here)."""
        self._check_tradeable(intent.time, price)
        pnl, accrued = self._remark(intent.time, price)
        fee = abs(mul_dec(mul_dec(trade_size, price), TAKER_FEE))
        margin = self.margin + pnl + accrued - fee
        size_before, size_after = self.size, self.size + trade_size
        if margin < 0:
            raise ValueError("Synthetix: the margin does not cover the loss and fee (InsufficientMargin)")
        if size_after != 0 and margin <= self._liquidation_margin(size_after, price):
            raise ValueError("Synthetix: the trade would leave the position liquidatable (CanLiquidate)")
        self.margin, self.size, self.last_price, self.last_time = margin, size_after, price, intent.time
        if size_after == 0:
            self.closed = True
        op = self._op(OP_TRADE, intent, price) | {
            "margin": margin, "size": size_after, "tradeSize": trade_size, "fee": fee,
        }
        amounts = Amounts(
            size_delta_usd=usd36(abs(trade_size) * price),
            size_after_usd=usd36(abs(size_after) * price),
            collateral_delta_usd=Decimal(0),
            collateral_after_usd=usd(margin),
            price=usd(price),
            fee_usd=usd(fee),
            funding_usd=usd(-accrued),
            realized_pnl_before_fees_usd=usd(pnl),
        )
        return self._step(intent, OP_TRADE, op, action, amounts, size_before, size_after)

    def _transfer(self, intent: Intent, price: int, delta: int) -> Step:
        """transferMargin(delta): deposit (> 0) or withdrawal (< 0); re-marks an open position."""
        pnl, accrued = self._remark(intent.time, price)
        margin = self.margin + delta + pnl + accrued
        if margin < 0:
            raise ValueError("Synthetix: withdrawal larger than the margin (InsufficientMargin)")
        if delta < 0 and self.size != 0 and margin <= self._liquidation_margin(self.size, price):
            raise ValueError("Synthetix: the withdrawal would leave the position liquidatable")
        self.margin = margin
        if self.size != 0:
            self.last_price, self.last_time = price, intent.time
        op = self._op(OP_TRANSFER, intent, price) | {
            "margin": margin, "size": self.size, "marginDelta": delta,
        }
        amounts = Amounts(
            size_delta_usd=Decimal(0),
            size_after_usd=usd36(abs(self.size) * price),
            collateral_delta_usd=usd(delta),
            collateral_after_usd=usd(margin),
            price=usd(price),
            fee_usd=Decimal(0),
            funding_usd=usd(-accrued),
            realized_pnl_before_fees_usd=usd(pnl),
        )
        action = Action.COLLATERAL_DEPOSIT if delta > 0 else Action.COLLATERAL_WITHDRAW
        extra = {"cash_out_usd": usd(-delta)} if delta < 0 else {}
        return self._step(intent, OP_TRANSFER, op, action, amounts, self.size, self.size, **extra)

    def _close(self, intent: Intent, price: int) -> list[Step]:
        if self.size == 0:
            raise ValueError("Synthetix CLOSE without a position")
        new_abs = self._base_units(intent.flip_size_e6, price) if intent.flip_size_e6 > 0 else 0
        if new_abs == 0:
            return [self._trade(intent, price, -self.size, Action.CLOSE)]
        # A flip: one trade across zero. The CLOSE half owns the log, the OPEN half is a new
        # position object of the other side that shares the anchor and inherits the margin.
        steps = []
        if intent.flip_collateral_e6 > 0:
            steps.append(self._transfer(intent, price, intent.flip_collateral_e6 * FROM_E6))
        self._check_tradeable(intent.time, price)
        new_size = -new_abs if self.size > 0 else new_abs
        trade_size = new_size - self.size
        pnl, accrued = self._remark(intent.time, price)
        fee = abs(mul_dec(mul_dec(trade_size, price), TAKER_FEE))
        margin = self.margin + pnl + accrued - fee
        if margin < 0:
            raise ValueError("Synthetix: the margin does not cover the loss and fee (InsufficientMargin)")
        if margin <= self._liquidation_margin(new_size, price):
            raise ValueError("Synthetix: the flip would leave the position liquidatable (CanLiquidate)")
        size_before = self.size
        new = SynthetixPosition(self.venue, self.trader, self.market, not self.is_long)
        new.margin, new.size, new.last_price, new.last_time = margin, new_size, price, intent.time
        new.started = True
        self.margin, self.size, self.last_price, self.last_time = 0, 0, price, intent.time
        self.closed = True
        self.flipped_to = new
        op = self._op(OP_TRADE, intent, price) | {
            "margin": margin, "size": new_size, "tradeSize": trade_size, "fee": fee,
        }
        close_amounts = Amounts(
            size_delta_usd=usd36(abs(size_before) * price),
            size_after_usd=Decimal(0),
            collateral_delta_usd=Decimal(0),
            collateral_after_usd=usd(margin),
            price=usd(price),
            fee_usd=usd(fee),
            funding_usd=usd(-accrued),
            realized_pnl_before_fees_usd=usd(pnl),
        )
        open_amounts = Amounts(
            size_delta_usd=usd36(new_abs * price),
            size_after_usd=usd36(new_abs * price),
            collateral_delta_usd=Decimal(0),
            collateral_after_usd=usd(margin),
            price=usd(price),
            fee_usd=Decimal(0),
            funding_usd=Decimal(0),
            realized_pnl_before_fees_usd=Decimal(0),
        )
        steps.append(self._step(intent, OP_TRADE, op, Action.CLOSE, close_amounts, size_before, new_size,
                                flip_to=new, carry_out_usd=usd(margin)))
        opened = Step(
            intent, self.contract_key, ARTIFACT, {"kind": OP_NOOP}, n_logs=0, anchor=0,
            action=Action.OPEN, amounts=open_amounts, position=new,
            extra={"carry_in_usd": usd(margin)}, shares_anchor=True,
        )
        steps.append(opened)
        return steps

    def _liquidate(self, intent: Intent, price: int) -> Step:
        if self.size == 0:
            raise ValueError("Synthetix LIQUIDATE without a position")
        pnl, accrued = self._remark(intent.time, price)
        remaining = max(self.margin + pnl + accrued, 0)
        flagger, liquidator = self._liquidation_fees(self.size, price)
        stakers = max(remaining - flagger - liquidator, 0)
        size_before, lost = self.size, self.margin
        op = self._op(OP_LIQUIDATE, intent, price) | {
            # the real market's PositionModified: margin, size, tradeSize and fee all 0
            "margin": 0, "size": 0, "tradeSize": 0, "fee": 0,
            "liquidator": int(LIQUIDATOR, 16), "liquidatedSize": size_before,
            "flaggerFee": flagger, "liquidatorFee": liquidator, "stakersFee": stakers,
        }
        self.margin, self.size, self.last_price, self.last_time = 0, 0, price, intent.time
        self.closed = True
        fee = flagger + liquidator + stakers  # the total liquidation fee
        amounts = Amounts(
            size_delta_usd=usd36(abs(size_before) * price),
            size_after_usd=Decimal(0),
            collateral_delta_usd=Decimal(0),
            collateral_after_usd=Decimal(0),
            price=usd(price),
            fee_usd=usd(fee),
            funding_usd=usd(-accrued),
            # the trader loses the whole margin, whatever the fees and the PnL were
            realized_pnl_before_fees_usd=usd(fee - accrued - lost),
        )
        return self._step(intent, OP_LIQUIDATE, op, Action.LIQUIDATE, amounts, size_before, 0,
                          stakers_fee_usd=usd(stakers), price_pnl_usd=usd(pnl))


class SynthetixVenue(Venue):
    """Synthetix Perps v2 on the dev chain: one ``SynthetixPerpsV2Market`` per market.

    ``shape_switch_block``: ops in blocks >= it emit the post-April-2023 event shapes.
    """

    platform = "synthetix"
    version = "perps_v2"
    MARKETS = ("ETH/USD", "BTC/USD", "SOL/USD")

    def __init__(
        self,
        genesis_time: int,
        shape_switch_block: int,
        funding_rate: Callable[[str, int], int] = daily_funding_rate,
    ) -> None:
        from copytrade.devchain.markets import MARKETS

        self.shape_switch_block = shape_switch_block
        self.artifact = ARTIFACT
        self.abi = ABI
        ref = {s: round(MARKETS[s].start_price * 10**8) * FROM_E8 for s in self.MARKETS}
        self.funding = FundingClock(genesis_time, ref, funding_rate)
        keys = self.contract_keys()
        self._funding_index = dict.fromkeys(keys, 0)  # index of the last FundingRecomputed
        self._next_id = dict.fromkeys(keys, 1)
        self._skew = dict.fromkeys(keys, 0)
        self._latest: dict[tuple[str, str], SynthetixPosition] = {}

    @property
    def trader_key(self) -> str:
        """Traders are assigned to the venue, not to one market."""
        return KEY_PREFIX

    @staticmethod
    def contract_key(symbol: str) -> str:
        return f"{KEY_PREFIX}.{symbol.split('/')[0].lower()}_perp"

    def contract_keys(self) -> list[str]:
        return [self.contract_key(s) for s in self.MARKETS]

    def markets(self) -> list[str]:
        return list(self.MARKETS)

    def open_position(self, trader: str, market: Market, is_long: bool) -> SynthetixPosition:
        if market.symbol not in self.MARKETS:
            raise ValueError(f"Synthetix dev chain has no {market.symbol} market")
        return SynthetixPosition(self, trader, market, is_long)

    def deploy(self, rpc, sender: str) -> dict[str, tuple[str, int]]:
        deployed = {}
        for symbol in self.MARKETS:
            address = deploy(rpc, ARTIFACT, sender)
            deployed[self.contract_key(symbol)] = (address, rpc.block_number())
        self.attach(deployed)
        return deployed

    def registry_rows(self, chain_id: int) -> list[RegistryRow]:
        return [self.live_row(key, chain_id, ABI, "PerpsV2Proxy") for key in self.contract_keys()]

    def finalize(self, steps: list[Step]) -> None:
        """Funding index, position id and market skew, in emission order per market."""
        for step in steps:
            if step.n_logs == 0:
                continue  # the OPEN half of a flip: its CLOSE half carries the log
            key, op, pos = step.contract_key, step.op, step.position
            self._funding_index[key] += 1
            op["index"] = self._funding_index[key]
            before, after = step.extra["size_before"], step.extra["size_after"]
            if before == 0 and after != 0:
                pos.position_id = self._next_id[key]
                self._next_id[key] += 1
                pos.position_key = str(pos.position_id)
            if before == 0 and after == 0:
                op["id"] = 0  # a margin transfer without a position
            else:
                if pos.position_id is None:
                    raise RuntimeError("Synthetix: finalize the block that opened the position first")
                op["id"] = pos.position_id
            flip = step.extra.get("flip_to")
            if flip is not None:
                flip.position_id, flip.position_key = pos.position_id, pos.position_key
            self._skew[key] += after - before
            op["skew"] = self._skew[key]
