"""GMX v2 (synthetics) EventEmitter emulator: the position accounting in GMX v2's integer units.

Follows gmx-io/gmx-synthetics (``IncreasePositionUtils``, ``DecreasePositionUtils``,
``DecreasePositionCollateralUtils``, ``PositionUtils``, ``PositionPricingUtils``,
``MarketUtils``): USD amounts with 30 decimals, prices per unit of token
(``usd_price * 1e30 / 10**token_decimals``), positions keyed by
``keccak(abi.encode(account, market, collateralToken, isLong))`` holding ``sizeInUsd``,
``sizeInTokens`` (GMX v2 has no average price: entry lives in ``sizeInTokens``),
``collateralAmount`` (collateral token units), ``borrowingFactor`` and
``fundingFeeAmountPerSize``. Every action emits ``PositionFeesCollected`` then
``PositionIncrease`` / ``PositionDecrease`` through ``EventLog1`` with the keys of
``PositionEventUtils.sol`` at commit 5371c8e9 (2025-04-25).

Money flow (collateral is USDC for every position, ``collateralTokenPrice`` = 1e24):

- fees of an action (``totalCostAmount``, USDC units) = position fee
  (``sizeDeltaUsd * positionFeeFactor / 1e30 / collateralTokenPrice``, floor) + borrowing fee
  (``borrowingFeeUsd = sizeInUsd * (cumulativeBorrowingFactor - position.borrowingFactor) / 1e30``,
  ``borrowingFeeAmount = borrowingFeeUsd / collateralTokenPrice``, floor) + funding fee
  (``sizeInUsd * (latestFundingFeeAmountPerSize - position.fundingFeeAmountPerSize) / 1e45``,
  rounded up, as ``MarketUtils.getFundingAmount``). Borrowing and funding settle on every
  action, for the size held before it.
- increase: ``collateralAmount += deposit - totalCostAmount``; the ``collateralDeltaAmount``
  int item is ``deposit - totalCostAmount`` (as in GMX).
- decrease: realized PnL in USDC units ``pnl = floor(basePnlUsd / collateralTokenPrice)`` (a
  profit rounds down, a loss up, as GMX does). Profit goes to the trader's output; loss and
  fees are paid from that output first, then from collateral; then the withdrawal moves from
  collateral to the output; a close also sends the remaining collateral. The
  ``collateralDeltaAmount`` uint item is ``collateral before - collateral after`` (as in GMX).
- liquidation (orderType 7): the trader loses the whole collateral.

Deliberate simplifications (the ledger stays exact; see also :func:`amounts_from_events`):

- Collateral and PnL are settled in USDC for longs and shorts alike (real markets pay long
  profit in the long token); no swaps, no price impact (every impact field is 0 and
  ``executionPrice`` = ``indexTokenPrice.min`` = ``.max`` = the oracle price), no referral,
  UI, pro or liquidation fees, no claimable funding (funding is paid by both sides, never
  received), so ``PositionFeesCollected`` always has the 23 fixed uint items.
- Borrowing and funding rates are pure functions of (market, side, time): a per-second rate
  drawn once per hour from a hash (borrowing 10-60% APR, funding 2-30% APR), so positions can
  be simulated independently of each other and of open interest.
- Liquidation: liquidatable when ``collateral + totalPnl - fees to close < max($1, 0.5% of
  sizeInUsd)``; the trader then loses all remaining collateral (real GMX returns what is left),
  ``basePnlUsd = -(collateral - fees)`` and ``uncappedBasePnlUsd`` = the price PnL. Fees larger
  than the collateral are cut (funding first, then borrowing, then position fee) so they never
  exceed it.
- A decrease, withdrawal or increase that would leave the position liquidatable, or a close
  whose loss and fees exceed the collateral, is refused with ``ValueError`` (GMX reverts or
  closes insolvently; the scenario then liquidates).
- ``orderKey`` = ``keccak(abi.encode(account, nonce))`` with a venue-wide nonce in emission
  order (assigned by :meth:`GmxV2Venue.finalize`, like GMX's global order nonce).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eth_utils import keccak

from copytrade.devchain.model import (
    Action,
    Amounts,
    Intent,
    Market,
    RegistryRow,
    Step,
    Trigger,
    Venue,
    VenuePosition,
)
from copytrade.devchain.tokens import token_address, token_decimals

USD = 10**30  # Precision.FLOAT_PRECISION
FLOAT_PRECISION_SQRT = 10**15
FUNDING_PRECISION = USD * FLOAT_PRECISION_SQRT  # fundingFeeAmountPerSize scale
FROM_E8 = 10**22  # price_e8 -> USD 1e30 (per whole token)
FROM_E6 = 10**24  # usd_e6 -> USD 1e30
YEAR = 365 * 86_400
HOUR = 3_600

COLLATERAL_SYMBOL = "USDC"
COLLATERAL_DECIMALS = token_decimals(COLLATERAL_SYMBOL)
COLLATERAL_PRICE = USD // 10**COLLATERAL_DECIMALS  # per unit: 1e24

POSITION_FEE_FACTOR = 5 * 10**26  # 0.05%
POSITION_FEE_RECEIVER_FACTOR = 37 * 10**28  # 37% of position fees to the fee receiver
BORROWING_FEE_RECEIVER_FACTOR = 37 * 10**28
MIN_COLLATERAL_FACTOR = 5 * 10**27  # 0.5%
MIN_COLLATERAL_USD = USD  # $1
BORROWING_APR_PCT = (10, 60)
FUNDING_APR_PCT = (2, 30)
LIQUIDATION_LOOKAHEAD = 86_400  # liquidation_price_e8 assumes fees accrued this much longer

# Order.OrderType
MARKET_INCREASE, LIMIT_INCREASE, MARKET_DECREASE, LIMIT_DECREASE = 2, 3, 4, 5
STOP_LOSS_DECREASE, LIQUIDATION, STOP_INCREASE = 6, 7, 8

CONTRACT_KEY = "gmx_v2.devchain.event_emitter"


def _address(label: str) -> str:
    return "0x" + keccak(text=label)[12:].hex()


# The handlers that call the EventEmitter (its ``msgSender``): orders and liquidations.
ORDER_HANDLER = _address("copytrade-devchain-gmx-v2:OrderHandler")
LIQUIDATION_HANDLER = _address("copytrade-devchain-gmx-v2:LiquidationHandler")


def market_token(symbol: str) -> str:
    """The dev chain's GMX v2 market token (market address) of ``symbol`` ("ETH/USD")."""
    return _address(f"copytrade-devchain-gmx-v2-market:{symbol}")


def usd(value: int) -> Decimal:
    return Decimal(value) / USD


def _word(value: int) -> bytes:
    return (value % (1 << 256)).to_bytes(32, "big")


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def _mul_div_toward_zero(value: int, numerator: int, denominator: int) -> int:
    """``Precision.mulDiv(int, uint, uint)``: the magnitude rounds down."""
    magnitude = abs(value) * numerator // denominator
    return magnitude if value >= 0 else -magnitude


def position_key(account: str, market: str, collateral_token: str, is_long: bool) -> bytes:
    """``Position.getPositionKey``: keccak(abi.encode(account, market, collateralToken, isLong))."""
    return keccak(
        _word(int(account, 16))
        + _word(int(market, 16))
        + _word(int(collateral_token, 16))
        + _word(int(is_long))
    )


def order_key(account: str, nonce: int) -> bytes:
    return keccak(_word(int(account, 16)) + _word(nonce))


def unit_price(price_e8: int, decimals: int) -> int:
    """USD 1e30 per smallest unit of a token with ``decimals`` decimals (exact)."""
    scaled = price_e8 * FROM_E8
    if scaled % 10**decimals:
        raise ValueError(f"price {price_e8} is not exact per unit of a {decimals}-decimals token")
    return scaled // 10**decimals


class RateClock:
    """A cumulative factor per (market, side): the integral of a per-second rate that is
    constant within each hour and drawn from a hash of (name, key, hour), starting at 0 at
    genesis. A pure function of time, as GMX's cumulative factors would be if every market were
    touched every second."""

    def __init__(self, name: str, genesis_time: int, apr_pct: tuple[int, int], unit: int) -> None:
        self.name = name
        self.genesis_time = genesis_time
        self.apr_pct = apr_pct
        self.unit = unit  # the factor accrued in a year at 100% APR
        self._at_hour: dict[str, list[int]] = {}  # cumulative at each hour start since genesis

    def rate(self, key: str, hour: int) -> int:
        """The per-second increment of the factor during ``hour`` (hours since the epoch)."""
        lo, hi = self.apr_pct
        digest = keccak(text=f"gmx_v2-{self.name}:{key}:{hour}")
        pct = lo + int.from_bytes(digest[:4], "big") % (hi - lo + 1)
        return pct * self.unit // (100 * YEAR)

    def cumulative(self, key: str, time: int) -> int:
        if time <= self.genesis_time:
            return 0
        first = self.genesis_time // HOUR
        hour = time // HOUR
        series = self._at_hour.setdefault(
            key, [0]
        )  # series[i]: at max(genesis, (first + i) * HOUR)
        while len(series) <= hour - first:
            h = first + len(series) - 1
            start = max(h * HOUR, self.genesis_time)
            series.append(series[-1] + self.rate(key, h) * ((h + 1) * HOUR - start))
        start = max(hour * HOUR, self.genesis_time)
        return series[hour - first] + self.rate(key, hour) * (time - start)


@dataclass(frozen=True)
class Fees:
    """What one action costs, in USDC units (``borrowing_fee_usd`` in USD 1e30)."""

    position_fee_amount: int
    borrowing_fee_usd: int
    borrowing_fee_amount: int
    funding_fee_amount: int
    cumulative_borrowing_factor: int
    latest_funding_fee_amount_per_size: int

    @property
    def total_cost_amount(self) -> int:
        return self.position_fee_amount + self.borrowing_fee_amount + self.funding_fee_amount

    def capped(self, available: int) -> Fees:
        """Fees cut to what ``available`` collateral can pay: funding, then borrowing, then position."""
        if self.total_cost_amount <= available:
            return self
        funding = min(self.funding_fee_amount, available)
        borrowing = min(self.borrowing_fee_amount, available - funding)
        position = min(self.position_fee_amount, available - funding - borrowing)
        return Fees(
            position,
            min(self.borrowing_fee_usd, borrowing * COLLATERAL_PRICE),
            borrowing,
            funding,
            self.cumulative_borrowing_factor,
            self.latest_funding_fee_amount_per_size,
        )

    def op_fields(self) -> dict[str, int]:
        """The ``PositionFeesCollected`` fields of the op (``PositionPricingUtils.getPositionFees``)."""
        borrowing_for_receiver = self.borrowing_fee_amount * BORROWING_FEE_RECEIVER_FACTOR // USD
        position_for_receiver = self.position_fee_amount * POSITION_FEE_RECEIVER_FACTOR // USD
        position_for_pool = self.position_fee_amount - position_for_receiver
        return {
            "fundingFeeAmount": self.funding_fee_amount,
            "borrowingFeeUsd": self.borrowing_fee_usd,
            "borrowingFeeAmount": self.borrowing_fee_amount,
            "borrowingFeeReceiverFactor": BORROWING_FEE_RECEIVER_FACTOR,
            "borrowingFeeAmountForFeeReceiver": borrowing_for_receiver,
            "positionFeeFactor": POSITION_FEE_FACTOR,
            "positionFeeAmount": self.position_fee_amount,
            "positionFeeReceiverFactor": POSITION_FEE_RECEIVER_FACTOR,
            "feeReceiverAmount": position_for_receiver + borrowing_for_receiver,
            "feeAmountForPool": position_for_pool
            + self.borrowing_fee_amount
            - borrowing_for_receiver,
            "positionFeeAmountForPool": position_for_pool,
            "totalCostAmount": self.total_cost_amount,
        }


def _increase_order_type(trigger: Trigger) -> int:
    if trigger is Trigger.MARKET:
        return MARKET_INCREASE
    if trigger is Trigger.LIMIT:
        return LIMIT_INCREASE
    return STOP_INCREASE


def _decrease_order_type(trigger: Trigger) -> int:
    """Order type of a trader's decrease (a liquidation is only ever the LIQUIDATE action)."""
    if trigger in (Trigger.LIMIT, Trigger.TAKE_PROFIT):
        return LIMIT_DECREASE
    if trigger is Trigger.STOP_LOSS:
        return STOP_LOSS_DECREASE
    return MARKET_DECREASE


class GmxV2Position(VenuePosition):
    def __init__(self, venue: GmxV2Venue, trader: str, market: Market, is_long: bool) -> None:
        self.venue = venue
        self.market_token = market_token(market.symbol)
        self.collateral_token = token_address(COLLATERAL_SYMBOL)
        self.index_decimals = market.token_decimals
        key = position_key(trader, self.market_token, self.collateral_token, is_long)
        super().__init__(trader, market, is_long, "0x" + key.hex())
        self.key_int = int.from_bytes(key, "big")
        self.side = f"{market.symbol}:{'long' if is_long else 'short'}"
        self.size_in_usd = 0
        self.size_in_tokens = 0
        self.collateral_amount = 0
        self.borrowing_factor = 0
        self.funding_fee_amount_per_size = 0

    # -- GMX v2 math -----------------------------------------------------------------------
    def _fees(self, time: int, size_delta_usd: int) -> Fees:
        cum_borrowing = self.venue.borrowing.cumulative(self.side, time)
        cum_funding = self.venue.funding.cumulative(self.side, time)
        borrowing_usd = self.size_in_usd * (cum_borrowing - self.borrowing_factor) // USD
        funding_amount = _ceil_div(
            self.size_in_usd * (cum_funding - self.funding_fee_amount_per_size), FUNDING_PRECISION
        )
        position_fee = size_delta_usd * POSITION_FEE_FACTOR // USD // COLLATERAL_PRICE
        return Fees(
            position_fee,
            borrowing_usd,
            borrowing_usd // COLLATERAL_PRICE,
            funding_amount,
            cum_borrowing,
            cum_funding,
        )

    def _total_pnl(self, size_in_usd: int, size_in_tokens: int, price: int) -> int:
        value = size_in_tokens * price
        return value - size_in_usd if self.is_long else size_in_usd - value

    def _liquidatable(
        self, size_in_usd: int, size_in_tokens: int, collateral: int, fees: Fees, price: int
    ) -> bool:
        """``PositionUtils.isPositionLiquidatable`` with the fees of closing now (``fees``)."""
        remaining = (
            collateral * COLLATERAL_PRICE
            + self._total_pnl(size_in_usd, size_in_tokens, price)
            - fees.total_cost_amount * COLLATERAL_PRICE
        )
        threshold = max(MIN_COLLATERAL_USD, size_in_usd * MIN_COLLATERAL_FACTOR // USD)
        return remaining < threshold

    def _closing_fees(self, time: int) -> Fees:
        return self._fees(time, self.size_in_usd)

    # -- VenuePosition ---------------------------------------------------------------------
    @property
    def size_usd(self) -> Decimal:
        return usd(self.size_in_usd)

    @property
    def collateral_usd(self) -> Decimal:
        return usd(self.collateral_amount * COLLATERAL_PRICE)

    def is_liquidatable(self, time: int, price_e8: int) -> bool:
        if self.size_in_usd == 0:
            return False
        price = unit_price(price_e8, self.index_decimals)
        return self._liquidatable(
            self.size_in_usd,
            self.size_in_tokens,
            self.collateral_amount,
            self._closing_fees(time),
            price,
        )

    def liquidation_price_e8(self, time: int) -> int | None:
        """Conservative: fees accrued to ``time + LIQUIDATION_LOOKAHEAD`` (a long's price is
        rounded up, a short's down), so a scan reaches it no later than the true one within
        that horizon; :meth:`is_liquidatable` decides."""
        if self.size_in_usd == 0 or self.size_in_tokens == 0:
            return None
        fees = self._closing_fees(time + LIQUIDATION_LOOKAHEAD).total_cost_amount * COLLATERAL_PRICE
        threshold = max(MIN_COLLATERAL_USD, self.size_in_usd * MIN_COLLATERAL_FACTOR // USD)
        collateral = self.collateral_amount * COLLATERAL_PRICE
        scale = 10**self.index_decimals
        if self.is_long:
            # collateral + tokens * p - size - fees < threshold
            numerator = (threshold + fees + self.size_in_usd - collateral) * scale
            if numerator <= 0:
                return None
            return _ceil_div(numerator, self.size_in_tokens * FROM_E8)
        # collateral + size - tokens * p - fees < threshold
        numerator = (collateral + self.size_in_usd - fees - threshold) * scale
        return max(numerator // (self.size_in_tokens * FROM_E8), 1)

    def apply(self, intent: Intent) -> list[Step]:
        if self.closed:
            raise ValueError(f"position {self.position_key} is closed")
        price = unit_price(intent.price_e8, self.index_decimals)
        if intent.action in (Action.OPEN, Action.INCREASE, Action.COLLATERAL_DEPOSIT):
            return [self._increase(intent, price)]
        if intent.action in (
            Action.DECREASE,
            Action.CLOSE,
            Action.COLLATERAL_WITHDRAW,
            Action.LIQUIDATE,
        ):
            return [self._decrease(intent, price)]
        raise ValueError(f"GMX v2 cannot {intent.action}")

    # -- actions -----------------------------------------------------------------------------
    def _op(
        self, intent: Intent, price: int, fees: Fees, is_increase: bool, order_type: int
    ) -> dict[str, int]:
        return {
            "isIncrease": int(is_increase),
            "msgSender": int(
                LIQUIDATION_HANDLER if order_type == LIQUIDATION else ORDER_HANDLER, 16
            ),
            "orderKey": 0,  # set by GmxV2Venue.finalize (emission order)
            "positionKey": self.key_int,
            "account": int(self.trader, 16),
            "market": int(self.market_token, 16),
            "collateralToken": int(self.collateral_token, 16),
            "isLong": int(self.is_long),
            "orderType": order_type,
            "atTime": intent.time,
            "sizeInUsd": self.size_in_usd,
            "sizeInTokens": self.size_in_tokens,
            "collateralAmount": self.collateral_amount,
            "borrowingFactor": self.borrowing_factor,
            "fundingFeeAmountPerSize": self.funding_fee_amount_per_size,
            "executionPrice": price,
            "collateralTokenPrice": COLLATERAL_PRICE,
        } | fees.op_fields()

    def _step(
        self, intent: Intent, op: dict[str, int], action: Action, amounts: Amounts, cash_out: int
    ) -> Step:
        return Step(
            intent,
            self.venue.contract_key,
            self.venue.artifact,
            op,
            n_logs=2,
            anchor=1,
            action=action,
            amounts=amounts,
            position=self,
            extra={"cash_out_usd": usd(cash_out * COLLATERAL_PRICE)},
        )

    def _increase(self, intent: Intent, price: int) -> Step:
        size_delta = (
            0 if intent.action is Action.COLLATERAL_DEPOSIT else intent.size_delta_e6 * FROM_E6
        )
        deposit = intent.collateral_delta_e6  # USDC has 6 decimals: e6 USD = units
        if size_delta < 0 or deposit < 0:
            raise ValueError("GMX v2: negative increase")
        if self.size_in_usd == 0 and size_delta == 0:
            raise ValueError("GMX v2: a position opens with a size")
        fees = self._fees(intent.time, size_delta)
        collateral_delta = deposit - fees.total_cost_amount
        collateral = self.collateral_amount + collateral_delta
        if collateral < 0:
            raise ValueError(
                "GMX v2: collateral does not cover the fees (InsufficientCollateralAmount)"
            )
        # round the tokens of a long down and of a short up (IncreasePositionUtils)
        tokens_delta = size_delta // price if self.is_long else _ceil_div(size_delta, price)
        size_in_usd = self.size_in_usd + size_delta
        size_in_tokens = self.size_in_tokens + tokens_delta
        if self._liquidatable(
            size_in_usd, size_in_tokens, collateral, self._fees_after(fees, size_in_usd), price
        ):
            raise ValueError(
                "GMX v2: the increased position would be liquidatable (validatePosition)"
            )
        action = (
            Action.OPEN
            if self.size_in_usd == 0
            else (Action.INCREASE if size_delta > 0 else Action.COLLATERAL_DEPOSIT)
        )
        self.size_in_usd = size_in_usd
        self.size_in_tokens = size_in_tokens
        self.collateral_amount = collateral
        self.borrowing_factor = fees.cumulative_borrowing_factor
        self.funding_fee_amount_per_size = fees.latest_funding_fee_amount_per_size
        op = self._op(intent, price, fees, True, _increase_order_type(intent.trigger)) | {
            "sizeDeltaUsd": size_delta,
            "sizeDeltaInTokens": tokens_delta,
            "collateralDeltaAmount": collateral_delta,
        }
        amounts = Amounts(
            size_delta_usd=usd(size_delta),
            size_after_usd=usd(self.size_in_usd),
            collateral_delta_usd=usd(deposit * COLLATERAL_PRICE),
            collateral_after_usd=self.collateral_usd,
            price=usd(intent.price_e8 * FROM_E8),
            fee_usd=usd(fees.position_fee_amount * COLLATERAL_PRICE),
            funding_usd=usd(
                (fees.borrowing_fee_amount + fees.funding_fee_amount) * COLLATERAL_PRICE
            ),
            realized_pnl_before_fees_usd=Decimal(0),
        )
        return self._step(intent, op, action, amounts, 0)

    @staticmethod
    def _fees_after(fees: Fees, size_in_usd: int) -> Fees:
        """The fees of closing a position of ``size_in_usd`` right after an action settled ``fees``."""
        return Fees(
            size_in_usd * POSITION_FEE_FACTOR // USD // COLLATERAL_PRICE,
            0,
            0,
            0,
            fees.cumulative_borrowing_factor,
            fees.latest_funding_fee_amount_per_size,
        )

    def _decrease(self, intent: Intent, price: int) -> Step:
        liquidation = intent.action is Action.LIQUIDATE
        closing = liquidation or intent.action is Action.CLOSE
        if closing:
            size_delta = self.size_in_usd
        elif intent.action is Action.COLLATERAL_WITHDRAW:
            size_delta = 0
        else:
            size_delta = intent.size_delta_e6 * FROM_E6
        if size_delta < 0 or size_delta > self.size_in_usd:
            raise ValueError("GMX v2: decrease larger than the position")
        if size_delta == self.size_in_usd:
            closing = True
        withdraw = 0 if closing else intent.collateral_delta_e6
        if withdraw < 0:
            raise ValueError("GMX v2: negative withdrawal")
        fees = self._fees(intent.time, size_delta)

        # PositionUtils.getPositionPnlUsd
        if closing:
            tokens_delta = self.size_in_tokens
        elif self.is_long:
            tokens_delta = _ceil_div(self.size_in_tokens * size_delta, self.size_in_usd)
        else:
            tokens_delta = self.size_in_tokens * size_delta // self.size_in_usd
        total_pnl = self._total_pnl(self.size_in_usd, self.size_in_tokens, price)
        base_pnl = (
            _mul_div_toward_zero(total_pnl, tokens_delta, self.size_in_tokens)
            if self.size_in_tokens
            else 0
        )
        uncapped_pnl = base_pnl
        before = self.collateral_amount

        if liquidation:
            fees = fees.capped(before)
            pnl = -(before - fees.total_cost_amount)  # the trader loses the whole collateral
            base_pnl = pnl * COLLATERAL_PRICE
            collateral, output = 0, 0
            order_type = LIQUIDATION
        else:
            pnl = base_pnl // COLLATERAL_PRICE  # USDC units: profit rounds down, loss up
            costs = fees.total_cost_amount
            collateral = before - max(0, costs - pnl)  # loss and fees the profit does not cover
            output = max(0, pnl - costs)
            if collateral < 0:
                raise ValueError(
                    "GMX v2: loss and fees exceed the collateral (insolvent: liquidate)"
                )
            if withdraw > collateral:
                raise ValueError("GMX v2: withdrawal larger than the collateral")
            collateral -= withdraw
            output += withdraw
            if closing:
                output += collateral
                collateral = 0
            elif self._liquidatable(
                self.size_in_usd - size_delta,
                self.size_in_tokens - tokens_delta,
                collateral,
                self._fees_after(fees, self.size_in_usd - size_delta),
                price,
            ):
                raise ValueError(
                    "GMX v2: the decreased position would be liquidatable (validatePosition)"
                )
            order_type = _decrease_order_type(intent.trigger)

        self.size_in_usd -= size_delta
        self.size_in_tokens -= tokens_delta
        self.collateral_amount = collateral
        self.borrowing_factor = fees.cumulative_borrowing_factor
        self.funding_fee_amount_per_size = fees.latest_funding_fee_amount_per_size
        if closing:
            self.size_in_usd = self.size_in_tokens = 0
            self.closed = True
            action = Action.LIQUIDATE if liquidation else Action.CLOSE
        else:
            action = Action.DECREASE if size_delta > 0 else Action.COLLATERAL_WITHDRAW
        op = self._op(intent, price, fees, False, order_type) | {
            "sizeDeltaUsd": size_delta,
            "sizeDeltaInTokens": tokens_delta,
            "collateralDeltaAmount": before - collateral,
            "basePnlUsd": base_pnl,
            "uncappedBasePnlUsd": uncapped_pnl,
        }
        amounts = Amounts(
            size_delta_usd=usd(size_delta),
            size_after_usd=usd(self.size_in_usd),
            collateral_delta_usd=-usd(withdraw * COLLATERAL_PRICE),
            collateral_after_usd=self.collateral_usd,
            price=usd(intent.price_e8 * FROM_E8),
            fee_usd=usd(fees.position_fee_amount * COLLATERAL_PRICE),
            funding_usd=usd(
                (fees.borrowing_fee_amount + fees.funding_fee_amount) * COLLATERAL_PRICE
            ),
            realized_pnl_before_fees_usd=usd(pnl * COLLATERAL_PRICE),
        )
        return self._step(intent, op, action, amounts, output)


class GmxV2Venue(Venue):
    """The GMX v2 EventEmitter of the dev chain and its markets (all collateralized in USDC)."""

    platform = "gmx"
    version = "v2"
    artifact = "GmxV2EventEmitter"
    abi = "gmx_v2/EventEmitter.abi.json"
    contract = "EventEmitter"
    MARKETS = ("ETH/USD", "BTC/USD", "SOL/USD", "ARB/USD", "LINK/USD", "DOGE/USD")

    def __init__(
        self, genesis_time: int, contract_key: str = CONTRACT_KEY, indexed_from_block: int = 0
    ) -> None:
        self.contract_key = contract_key
        self.indexed_from_block = indexed_from_block
        self.borrowing = RateClock("borrowing", genesis_time, BORROWING_APR_PCT, USD)
        # funding: USDC units (1e6 per USD) per USD of size, scaled by FLOAT_PRECISION_SQRT
        self.funding = RateClock(
            "funding", genesis_time, FUNDING_APR_PCT, 10**COLLATERAL_DECIMALS * FLOAT_PRECISION_SQRT
        )
        self.order_nonce = 0

    def markets(self) -> list[str]:
        return list(self.MARKETS)

    def market_tokens(self) -> dict[str, str]:
        """{market token address: market symbol}: what a decoder needs to find the index token
        (``token_address(base)``) and its decimals (``token_decimals(base)``)."""
        return {market_token(symbol): symbol for symbol in self.MARKETS}

    def contract_keys(self) -> list[str]:
        return [self.contract_key]

    def open_position(self, trader: str, market: Market, is_long: bool) -> GmxV2Position:
        if market.symbol not in self.MARKETS:
            raise ValueError(f"GMX v2 (dev chain) does not list {market.symbol}")
        return GmxV2Position(self, trader, market, is_long)

    def finalize(self, steps: list[Step]) -> None:
        """Order keys from a venue-wide nonce in emission order (GMX's global order nonce)."""
        for step in steps:
            self.order_nonce += 1
            account = "0x" + step.op["account"].to_bytes(20, "big").hex()
            step.op["orderKey"] = int.from_bytes(order_key(account, self.order_nonce), "big")

    def deploy(self, rpc, sender: str) -> dict[str, tuple[str, int]]:
        return self.deploy_contract(rpc, sender, self.contract_key, self.artifact)

    def registry_rows(self, chain_id: int) -> list[RegistryRow]:
        return [self.live_row(self.contract_key, chain_id, self.abi, self.contract, self.indexed_from_block)]


def amounts_from_events(
    event_name: str, fees: dict[str, int], position: dict[str, int], index_decimals: int
) -> tuple[Action, Amounts, Decimal]:
    """The ledger of one action rebuilt from its two logs (the reference for the decoder).

    ``fees`` / ``position``: the items of ``PositionFeesCollected`` and of the
    ``PositionIncrease`` / ``PositionDecrease`` that follows it (same ``orderKey``), flattened
    to {key: value} (keys are unique within each event). ``index_decimals``: decimals of the
    market's index token. Returns (action, amounts, cash out in USD).
    """
    cp = fees["collateralTokenPrice.min"]

    def amount_usd(amount: int) -> Decimal:
        return usd(amount * cp)

    costs = fees["totalCostAmount"]
    size_delta = position["sizeDeltaUsd"]
    common = {
        "size_delta_usd": usd(size_delta),
        "size_after_usd": usd(position["sizeInUsd"]),
        "collateral_after_usd": amount_usd(position["collateralAmount"]),
        "price": usd(position["executionPrice"] * 10**index_decimals),
        "fee_usd": amount_usd(fees["positionFeeAmount"]),
        "funding_usd": amount_usd(fees["borrowingFeeAmount"] + fees["fundingFeeAmount"]),
    }
    if event_name == "PositionIncrease":
        deposit = position["collateralDeltaAmount"] + costs
        if size_delta > 0 and position["sizeInUsd"] == size_delta:
            action = Action.OPEN
        else:
            action = Action.INCREASE if size_delta > 0 else Action.COLLATERAL_DEPOSIT
        amounts = Amounts(
            collateral_delta_usd=amount_usd(deposit),
            realized_pnl_before_fees_usd=Decimal(0),
            **common,
        )
        return action, amounts, Decimal(0)
    if event_name != "PositionDecrease":
        raise ValueError(f"not a position event: {event_name}")
    pnl = position["basePnlUsd"] // cp  # floor: what was settled in collateral units
    collateral_delta = position["collateralDeltaAmount"]  # collateral before - after
    if position["orderType"] == LIQUIDATION:
        action, withdrawn, cash_out = Action.LIQUIDATE, 0, 0
    elif position["sizeInUsd"] == 0:
        action, withdrawn, cash_out = Action.CLOSE, 0, collateral_delta + pnl - costs
    else:
        action = Action.DECREASE if size_delta > 0 else Action.COLLATERAL_WITHDRAW
        withdrawn = collateral_delta - max(0, costs - pnl)
        cash_out = withdrawn + max(0, pnl - costs)
    amounts = Amounts(
        collateral_delta_usd=-amount_usd(withdrawn),
        realized_pnl_before_fees_usd=amount_usd(pnl),
        **common,
    )
    return action, amounts, amount_usd(cash_out)
