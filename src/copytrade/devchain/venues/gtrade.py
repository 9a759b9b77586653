"""gTrade (Gains Network) diamond emulator, v9 and v10: the trade accounting in the diamond's units.

The real GNSMultiCollatDiamond was upgraded IN PLACE from v9 to v10 (same address, new event
signatures), so one :class:`GTradeVenue` deploys a proxy (``GTradeDiamond``) pointing at the
v9 facet and upgrades it to the v10 facet at ``upgrade_block``; ops of earlier blocks are
encoded with ``GTradeV9Facet.Op``, later ones with ``GTradeV10Facet.Op``. The registry gets two
rows with the same address and adjacent block ranges, as in ``venues/abis/deployments.yaml``.

Units (as on the diamond): collateral USDC (``collateralIndex`` 3, 6 decimals, price 1e8 = $1),
prices 1e10 (``price_e8 * 100``), leverage 1e3, percentages 1e10 (100% = ``100e10``). A trade is
``(user, index)`` with a per-trader index counter from 0; its position size in collateral is
``collateralAmount * leverage / 1e3`` (``getPositionSizeCollateral``).

Math, following GainsNetwork's ``TradingCommonUtils`` / ``*PositionSizeUtils`` (v9.x):
- percentProfit (``getPnlPercent``): ``(price - open) * 100e10 * leverage / open / 1e3``,
  negated for shorts, truncated toward zero, floored at -100% and (as before v9) capped at +900%.
- close value (``getTradeValuePure``): for a 6-decimals collateral it is exactly
  ``collateral + floor(collateral * percentProfit / 100e10) - closingFee - holdingFee``, and
  ``amountSentToTrader = max(0, value)``.
- trading fee: 0.06% of the position size the action trades (``FEE_BPS``), split into
  gov 10% / trigger 20% / GNS OTC 30% / gToken remainder (``GlobalTradeFeeParams``; no
  referrer). Market orders give the trigger share to GNS OTC (as the diamond does); trigger
  orders (LIMIT_OPEN, TP_CLOSE, SL_CLOSE, LIQ_CLOSE) emit TriggerFeeCharged. The gToken share is
  the remainder, so the fee events sum EXACTLY to the fee charged (the diamond floors every share
  and keeps the dust; here the vault gets it).
- open: fee on ``deposit * leverage / 1e3``; the trade stores ``deposit - fee``.
- partial increase (``IncreasePositionSizeUtils``): ``positionSizeDelta = collateralDelta *
  leverageDelta / 1e3`` (or ``collateral * leverageDelta / 1e3`` when no collateral is added),
  ``newLeverage = (existingSize + sizeDelta) * 1e3 / (collateral + collateralDelta)``, then the
  opening fee and the holding fee are taken from the new collateral; the new open price is
  ``(oldPosSizePlusPnl * openPrice + sizeDelta * price) / (oldPosSizePlusPnl + sizeDelta)`` with
  ``oldPosSizePlusPnl = existingSize +/- existingPnl`` (+ for longs, - for shorts) and
  ``existingPnl = trunc(percentProfit * collateral / 100e10)``: the trade's unrealized pnl is
  preserved.
- partial decrease (``DecreasePositionSizeUtils``, collateral mode): leverage is kept,
  ``collateralDelta = sizeDelta * 1e3 / leverage``, ``partialPnl = trunc(existingPnl *
  positionSizeDelta / existingSize)``, ``collateralSentToTrader = collateralDelta - closingFee +
  partialPnl - holdingFee``; a negative value is a trader debt taken from the remaining collateral.
- leverage update (``UpdateLeverageLifecycles``) = COLLATERAL_DEPOSIT (leverage down) /
  COLLATERAL_WITHDRAW (leverage up) at constant position size: ``newCollateral = collateral *
  leverage / newLeverage``, minus the minimum gov fee (``LEVERAGE_UPDATE_GOV_FEE``).
- holding (v9: borrowing) fee: ``size * (acc(t) - acc(entry)) / 100e10`` with ``acc`` a
  cumulative fee % per pair and side that is a pure function of time (:class:`HoldingFeeClock`,
  10-40% APR), settled (and ``entry`` reset) on increase, decrease and close; a leverage update
  does not settle it (v9 does not either), so it then applies to the new size.
- liquidation: when ``pnl - holdingFee <= -90% of collateral``, i.e. at ``liqPrice = open -/+
  open * (collateral * 90% - holdingFee) * 1e3 / (collateral * leverage)``; the liquidation fee
  is 10% of the collateral (``LIQ_CLOSE`` fees) and the trader receives nothing.

Ledger (:class:`Amounts`, USD = USDC units / 1e6) and how a decoder gets each field from the
logs of one action (the fee logs preceding its anchor in the same transaction):
- ``fee_usd``: sum of GovFeeCharged + TriggerFeeCharged + GnsOtcFeeCharged + GTokenFeeCharged
  (v10: also FeesProcessed.totalFeesCollateral).
- ``funding_usd``: v9 BorrowingFeeCharged.amountCollateral; v10 HoldingFeesChargedOnTrade
  ``tradeHoldingFees.totalFeeCollateral``; 0 for opens and leverage updates.
- ``size_delta_usd``: open ``t.collateralAmount * t.leverage / 1e3`` (the stored trade, after
  fees); increase / decrease ``values.positionSizeCollateralDelta`` (= collateral delta * leverage
  delta, resp. * leverage, / 1e3: the size the fee is charged on); close / TP / SL / liquidation
  ``t.collateralAmount * t.leverage / 1e3`` of the trade before closing; leverage update 0.
- ``size_after_usd``: ``collateral after * leverage after / 1e3`` (0 after a close).
- ``collateral_delta_usd``: open ``+(t.collateralAmount + fee)`` (the gross deposit); increase
  ``+collateralDelta``; decrease ``-collateralDelta``; deposit / withdraw ``+/-collateralDelta``
  of LeverageUpdateExecuted; close and liquidation 0.
- ``collateral_after_usd``: open ``t.collateralAmount``; increase / decrease / leverage update
  ``values.newCollateralAmount``; close and liquidation 0.
- ``price``: ``oraclePrice / 1e10`` (= marketPrice = priceAfterImpact: no spread, no impact).
- ``realized_pnl_before_fees_usd``: close ``amountSentToTrader + fee + funding -
  t.collateralAmount`` (= ``floor(t.collateralAmount * percentProfit / 100e10)`` unless the
  trade value is negative); liquidation the same with amountSentToTrader 0, so the trader loses
  exactly the collateral; decrease the partial pnl (v10 ``values.partialRawPnlCollateral``, v9
  ``collateralSentToTrader - availableCollateralInDiamond + borrowingFeeCollateral``); 0
  otherwise.
- ``extra["cash_out_usd"]``: close ``amountSentToTrader``, decrease ``max(0,
  collateralSentToTrader)``, withdraw ``collateralDelta``, 0 otherwise.
With these, ``realized_pnl = before - fee - funding`` summed over a closed trade equals cash out
minus cash in exactly.

Further simplifications: no spread, price impact, referral, fee tiers, min position size or
exposure limits; no pending-order, TradeStored / TradeClosed / OI bookkeeping events; TP/SL levels
are not known in advance, so a trade shows ``tp``/``sl`` 0 until the TP/SL close, whose ``t`` shows
the execution price as the level; LimitExecuted ``limitIndex`` = the trade index; v10 holding fees
are taken from the collateral like v9 borrowing fees (no funding fees, no realized-pnl ledger),
and a v10 leverage update does not realize them either.
"""

from __future__ import annotations

from decimal import Decimal

from eth_utils import keccak

from copytrade.devchain.anvil import DEFAULT_GENESIS
from copytrade.devchain.deploy import deploy
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

P10 = 10**10
PRICE_FROM_E8 = 100  # price_e8 -> 1e10
LEVERAGE_PRECISION = 1_000
PERCENT_100 = 100 * P10  # 100% in percentProfit precision
COLLATERAL_INDEX = 3  # USDC on the Arbitrum diamond
COLLATERAL_DECIMALS = 6
COLLATERAL_UNIT = 10**COLLATERAL_DECIMALS
COLLATERAL_PRICE_USD = 10**8  # $1 with 8 decimals
TOKEN_FROM_COLLATERAL = 10**22  # size (6 dec) * 1e22 / price (1e10) -> tokens with 18 decimals

MIN_LEVERAGE = 1_100
MAX_LEVERAGE = 150_000
FEE_BPS = 6  # total position size fee: 0.06%
BPS = 10_000
MAX_PNL_P = 900 * P10
MIN_PNL_P = -100 * P10
LIQ_THRESHOLD_P = 90  # % of collateral lost (after holding fees) that triggers a liquidation
LIQ_FEE_P = 10  # LIQ_CLOSE fee, % of collateral

# GlobalTradeFeeParams shares (1e3 precision, 100% = 100_000); the gToken vault gets the rest.
FEE_SHARE_PRECISION = 100_000
GOV_FEE_P = 10_000
TRIGGER_FEE_P = 20_000
GNS_OTC_FEE_P = 30_000

MIN_POSITION_SIZE = 1_500 * COLLATERAL_UNIT
# getMinGovFeeCollateral: the gov share of the fee on half the minimum position size.
LEVERAGE_UPDATE_GOV_FEE = (MIN_POSITION_SIZE // 2 * FEE_BPS // BPS) * GOV_FEE_P // FEE_SHARE_PRECISION

SECONDS_PER_YEAR = 365 * 24 * 3600
HOLDING_INTERVAL = 3600

PAIRS = {
    "BTC/USD": 0,
    "ETH/USD": 1,
    "LINK/USD": 2,
    "DOGE/USD": 3,
    "SOL/USD": 33,
    "ARB/USD": 109,
}

# ITradingStorage.PendingOrderType
MARKET_OPEN, MARKET_CLOSE, LIMIT_OPEN, STOP_OPEN, TP_CLOSE, SL_CLOSE, LIQ_CLOSE = range(7)
UPDATE_LEVERAGE, MARKET_PARTIAL_OPEN, MARKET_PARTIAL_CLOSE = 7, 8, 9

# Op.kind: which main event the op emits
KIND_MARKET, KIND_LIMIT, KIND_INCREASE, KIND_DECREASE, KIND_LEVERAGE = range(5)
# Op.feeMode
FEES_NONE, FEES_TRADING, FEES_GOV_ONLY = 0, 1, 2

V10_ONLY_FIELDS = (
    "positionSizeToken",
    "impactPositionSizeToken",
    "partialRawPnlCollateral",
    "partialNetPnlCollateral",
    "realizedTradingFees",
)
FACETS = {"v9": "GTradeV9Facet", "v10": "GTradeV10Facet"}
ABIS = {
    "v9": "gtrade/GNSMultiCollatDiamond_v9.events.abi.json",
    "v10": "gtrade/GNSMultiCollatDiamond_v10.events.abi.json",
}
TRIGGER_BOT = "0x" + keccak(text="copytrade-devchain-gtrade-trigger-bot")[12:].hex()
UPGRADE_SELECTOR = keccak(text="upgradeTo(address)")[:4]


def usd(amount: int) -> Decimal:
    """USDC units -> USD (the collateral is worth exactly $1)."""
    return Decimal(amount) / COLLATERAL_UNIT


def price_usd(price_p10: int) -> Decimal:
    return Decimal(price_p10) / P10


def tdiv(a: int, b: int) -> int:
    """Solidity signed division: truncation toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def pnl_percent(open_price: int, price: int, long: bool, leverage: int) -> int:
    """``getPnlPercent`` (1e10 precision), floored at -100% and capped at +900%."""
    diff = price - open_price if long else open_price - price
    p = tdiv(diff * PERCENT_100 * leverage, open_price * LEVERAGE_PRECISION)
    return max(MIN_PNL_P, min(MAX_PNL_P, p))


def split_fee(total: int, trigger_order: bool) -> dict[str, int]:
    """The fee events' amounts; they sum to ``total`` exactly."""
    gov = total * GOV_FEE_P // FEE_SHARE_PRECISION
    trigger_share = total * TRIGGER_FEE_P // FEE_SHARE_PRECISION
    trigger = trigger_share if trigger_order else 0
    otc = total * GNS_OTC_FEE_P // FEE_SHARE_PRECISION + (trigger_share - trigger)
    return {"govFee": gov, "triggerFee": trigger, "gnsOtcFee": otc, "gTokenFee": total - gov - trigger - otc}


def hourly_holding_rate(pair_index: int, long: bool, hour: int) -> int:
    """Holding fee accrued per second during one hour, in 1e10 % of position size.

    10%-40% APR, varying by pair, side and hour the way utilization does (deterministic).
    """
    digest = keccak(text=f"gtrade-holding:{pair_index}:{int(long)}:{hour}")
    apr_bps = 1_000 + int.from_bytes(digest[:2], "big") % 3_001
    return apr_bps * P10 // 100 // SECONDS_PER_YEAR


class HoldingFeeClock:
    """Cumulative holding fee % (1e10) per pair and side, a pure function of time.

    ``acc(t)`` grows linearly within each hour at that hour's rate (the diamond accrues per
    block from utilization; here positions can be simulated independently).
    """

    def __init__(self, genesis_time: int) -> None:
        self.genesis_hour = genesis_time // HOLDING_INTERVAL
        self._cum: dict[tuple[int, bool], list[int]] = {}  # acc at the start of each hour
        self._rates: dict[tuple[int, bool], list[int]] = {}  # per-second rate of each hour

    def acc(self, pair_index: int, long: bool, time: int) -> int:
        offset = time - self.genesis_hour * HOLDING_INTERVAL
        if offset <= 0:
            return 0
        hours, seconds = divmod(offset, HOLDING_INTERVAL)
        key = (pair_index, long)
        cum = self._cum.setdefault(key, [0])
        rates = self._rates.setdefault(key, [])
        while len(rates) <= hours:
            rates.append(hourly_holding_rate(pair_index, long, self.genesis_hour + len(rates)))
            cum.append(cum[-1] + rates[-1] * HOLDING_INTERVAL)
        return cum[hours] + rates[hours] * seconds


def _clamp_leverage(leverage: int) -> int:
    return max(MIN_LEVERAGE, min(MAX_LEVERAGE, leverage))


class GTradePosition(VenuePosition):
    """One gTrade trade ``(user, index)``.

    ``index`` is the trader's trade counter, taken when the OPEN succeeds (a refused open uses
    none); ``position_key`` = the user address followed by the index as 8 hex digits (i.e.
    ``abi.encodePacked(user, uint32 index)``), both read from any of the trade's events.
    """

    def __init__(self, venue: GTradeVenue, trader: str, market: Market, is_long: bool) -> None:
        if market.symbol not in PAIRS:
            raise ValueError(f"gTrade emulator does not list {market.symbol}")
        self.venue = venue
        self.pair_index = PAIRS[market.symbol]
        self.index = -1
        super().__init__(trader, market, is_long, "")
        self.collateral = 0  # trade.collateralAmount (USDC units)
        self.leverage = 0  # 1e3
        self.open_price = 0  # 1e10
        self.tp = 0
        self.sl = 0
        self.entry_acc = 0  # holding fee accumulator at the last settlement
        self.realized_holding = 0  # holding fees charged so far (v10 newRealizedTradingFees)
        self.opened = False

    # -- diamond math ----------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Position size in collateral (``getPositionSizeCollateral``)."""
        return self.collateral * self.leverage // LEVERAGE_PRECISION

    def _acc(self, time: int) -> int:
        return self.venue.holding.acc(self.pair_index, self.is_long, time)

    def holding_fee(self, time: int) -> int:
        if not self.opened or self.closed:
            return 0
        return self.size * (self._acc(time) - self.entry_acc) // PERCENT_100

    def liq_price(self, holding_fee: int) -> int:
        """Liquidation price (1e10) with ``holding_fee`` accrued (the diamond's formula shape)."""
        c, lev, o = self.collateral, self.leverage, self.open_price
        dist = o * (c * LIQ_THRESHOLD_P // 100 - holding_fee) * LEVERAGE_PRECISION // (c * lev)
        return max(o - dist if self.is_long else o + dist, 0)

    def _position_size_token(self, size: int, price: int) -> int:
        return size * TOKEN_FROM_COLLATERAL // price if price else 0

    # -- VenuePosition -----------------------------------------------------------------------
    @property
    def size_usd(self) -> Decimal:
        return usd(self.size)

    @property
    def collateral_usd(self) -> Decimal:
        return usd(self.collateral)

    def is_liquidatable(self, time: int, price_e8: int) -> bool:
        if not self.opened or self.closed:
            return False
        liq = self.liq_price(self.holding_fee(time))
        price = price_e8 * PRICE_FROM_E8
        return price <= liq if self.is_long else price >= liq

    def liquidation_price_e8(self, time: int) -> int | None:
        if not self.opened or self.closed:
            return None
        liq = self.liq_price(self.holding_fee(time))
        if self.is_long:
            return liq // PRICE_FROM_E8 or None  # below 1e-8 a long is never liquidated
        return -(-liq // PRICE_FROM_E8)

    def apply(self, intent: Intent) -> list[Step]:
        if self.closed:
            raise ValueError(f"gTrade trade {self.position_key} is closed")
        if (intent.action is Action.OPEN) == self.opened:
            raise ValueError(f"gTrade: {intent.action} on a trade that is {'open' if self.opened else 'not open'}")
        price = intent.price_e8 * PRICE_FROM_E8
        if price <= 0:
            raise ValueError("gTrade: price must be positive")
        action = intent.action
        if action is Action.OPEN:
            return [self._open(intent, price)]
        if action is Action.INCREASE:
            return [self._increase(intent, price)]
        if action is Action.DECREASE:
            return [self._decrease(intent, price)]
        if action is Action.CLOSE:
            if intent.trigger is Trigger.LIQUIDATION:
                return [self._liquidate(intent, price)]
            return [self._close(intent, price)]
        if action is Action.LIQUIDATE:
            return [self._liquidate(intent, price)]
        if action in (Action.COLLATERAL_DEPOSIT, Action.COLLATERAL_WITHDRAW):
            return [self._update_leverage(intent, price)]
        raise ValueError(f"gTrade cannot {action}")

    # -- ops ---------------------------------------------------------------------------------
    def _trade_fields(self) -> dict[str, int]:
        """The trade as it stands (the ``t`` of MarketExecuted / LimitExecuted)."""
        return {
            "leverage": self.leverage,
            "isOpen": 1,
            "collateralAmount": self.collateral,
            "openPrice": self.open_price,
            "tp": self.tp,
            "sl": self.sl,
            "positionSizeToken": self._position_size_token(self.size, self.open_price),
        }

    def _base_op(self, kind: int, order_type: int, price: int) -> dict[str, int]:
        return {
            "kind": kind,
            "trader": int(self.trader, 16),
            "index": self.index,
            "pairIndex": self.pair_index,
            "long": int(self.is_long),
            "collateralIndex": COLLATERAL_INDEX,
            "collateralPriceUsd": COLLATERAL_PRICE_USD,
            "orderType": order_type,
            "oraclePrice": price,
        }

    def _step(
        self,
        intent: Intent,
        action: Action,
        op: dict[str, int],
        amounts: Amounts,
        cash_out: int = 0,
    ) -> Step:
        version = self.venue.version_at(intent.block)
        if version == "v9":
            for name in V10_ONLY_FIELDS:
                op.pop(name, None)
        n_logs = 1 + int(op.get("chargeHolding", 0))
        fee_mode = op.get("feeMode", FEES_NONE)
        if fee_mode == FEES_TRADING:
            n_logs += 3 + int(op["triggerFee"] > 0) + int(version == "v10")
        elif fee_mode == FEES_GOV_ONLY:
            n_logs += 1
        return Step(
            intent, self.venue.contract_key, FACETS[version], op, n_logs=n_logs, anchor=n_logs - 1,
            action=action, amounts=amounts, position=self,
            extra={"cash_out_usd": usd(cash_out), "version": version, "order_type": op["orderType"]},
        )

    def _open(self, intent: Intent, price: int) -> Step:
        if intent.trigger not in (Trigger.MARKET, Trigger.LIMIT):
            raise ValueError(f"gTrade opens with a market or limit order, not {intent.trigger}")
        deposit = intent.collateral_delta_e6
        if deposit <= 0 or intent.size_delta_e6 <= 0:
            raise ValueError("gTrade: an open needs collateral and size")
        limit = intent.trigger is Trigger.LIMIT
        leverage = _clamp_leverage(intent.size_delta_e6 * LEVERAGE_PRECISION // deposit)
        fee_basis = deposit * leverage // LEVERAGE_PRECISION
        fees = split_fee(fee_basis * FEE_BPS // BPS, limit)
        total_fee = sum(fees.values())
        self.collateral = deposit - total_fee
        self.leverage = leverage
        self.open_price = price
        self.entry_acc = self._acc(intent.time)
        self.opened = True
        self.index = self.venue.next_trade_index(self.trader)
        self.position_key = f"{self.trader}{self.index:08x}"
        kind, order_type = (KIND_LIMIT, LIMIT_OPEN) if limit else (KIND_MARKET, MARKET_OPEN)
        op = self._base_op(kind, order_type, price) | self._trade_fields() | fees | {
            "feeMode": FEES_TRADING,
            "open": 1,
            "triggerCaller": int(TRIGGER_BOT, 16) if limit else 0,
            "exactExecution": int(limit),
            "liqPrice": self.liq_price(0),
            "collateralDelta": deposit,
            "positionSizeCollateralDelta": fee_basis,
            "impactPositionSizeToken": self._position_size_token(fee_basis, price),
        }
        amounts = Amounts(
            size_delta_usd=usd(self.size),
            size_after_usd=usd(self.size),
            collateral_delta_usd=usd(deposit),
            collateral_after_usd=usd(self.collateral),
            price=price_usd(price),
            fee_usd=usd(total_fee),
            funding_usd=Decimal(0),
            realized_pnl_before_fees_usd=Decimal(0),
        )
        return self._step(intent, Action.OPEN, op, amounts)

    def _close(self, intent: Intent, price: int) -> Step:
        pp = pnl_percent(self.open_price, price, self.is_long, self.leverage)
        trigger = intent.trigger
        if trigger is Trigger.LIMIT:  # gTrade closes at a level only through TP / SL
            trigger = Trigger.TAKE_PROFIT if pp > 0 else Trigger.STOP_LOSS
        if trigger is Trigger.TAKE_PROFIT:
            kind, order_type = KIND_LIMIT, TP_CLOSE
            self.tp = price
        elif trigger is Trigger.STOP_LOSS:
            kind, order_type = KIND_LIMIT, SL_CLOSE
            self.sl = price
        else:
            kind, order_type = KIND_MARKET, MARKET_CLOSE
        holding = self.holding_fee(intent.time)
        size = self.size
        fees = split_fee(size * FEE_BPS // BPS, kind == KIND_LIMIT)
        total_fee = sum(fees.values())
        collateral = self.collateral
        pnl = collateral * pp // PERCENT_100  # getTradeValuePure: floor for 6-decimal collateral
        sent = max(0, collateral + pnl - total_fee - holding)
        op = self._base_op(kind, order_type, price) | self._trade_fields() | fees | {
            "feeMode": FEES_TRADING,
            "chargeHolding": 1,
            "holdingFee": holding,
            "realizedTradingFees": self.realized_holding + holding,
            "triggerCaller": int(TRIGGER_BOT, 16) if kind == KIND_LIMIT else 0,
            "exactExecution": int(kind == KIND_LIMIT),
            "liqPrice": self.liq_price(holding),
            "percentProfit": pp,
            "amountSentToTrader": sent,
            "positionSizeCollateralDelta": size,
            "impactPositionSizeToken": self._position_size_token(size, price),
        }
        self._settle_close(holding)
        amounts = Amounts(
            size_delta_usd=usd(size),
            size_after_usd=Decimal(0),
            collateral_delta_usd=Decimal(0),
            collateral_after_usd=Decimal(0),
            price=price_usd(price),
            fee_usd=usd(total_fee),
            funding_usd=usd(holding),
            realized_pnl_before_fees_usd=usd(sent + total_fee + holding - collateral),
        )
        return self._step(intent, Action.CLOSE, op, amounts, cash_out=sent)

    def _liquidate(self, intent: Intent, price: int) -> Step:
        pp = pnl_percent(self.open_price, price, self.is_long, self.leverage)
        collateral = self.collateral
        size = self.size
        fees = split_fee(collateral * LIQ_FEE_P // 100, True)
        total_fee = sum(fees.values())
        holding = min(self.holding_fee(intent.time), collateral - total_fee)
        op = self._base_op(KIND_LIMIT, LIQ_CLOSE, price) | self._trade_fields() | fees | {
            "feeMode": FEES_TRADING,
            "chargeHolding": 1,
            "holdingFee": holding,
            "realizedTradingFees": self.realized_holding + holding,
            "triggerCaller": int(TRIGGER_BOT, 16),
            "exactExecution": 0,
            "liqPrice": self.liq_price(holding),
            "percentProfit": pp,
            "amountSentToTrader": 0,
            "positionSizeCollateralDelta": size,
            "impactPositionSizeToken": self._position_size_token(size, price),
        }
        self._settle_close(holding)
        amounts = Amounts(
            size_delta_usd=usd(size),
            size_after_usd=Decimal(0),
            collateral_delta_usd=Decimal(0),
            collateral_after_usd=Decimal(0),
            price=price_usd(price),
            fee_usd=usd(total_fee),
            funding_usd=usd(holding),
            # the trader loses the whole collateral, whatever the fees were
            realized_pnl_before_fees_usd=usd(total_fee + holding - collateral),
        )
        return self._step(intent, Action.LIQUIDATE, op, amounts)

    def _settle_close(self, holding: int) -> None:
        self.realized_holding += holding
        self.collateral = 0
        self.closed = True

    def _increase(self, intent: Intent, price: int) -> Step:
        collateral_delta = intent.collateral_delta_e6
        if collateral_delta < 0 or intent.size_delta_e6 <= 0:
            raise ValueError("gTrade: an increase needs a positive size")
        c, lev = self.collateral, self.leverage
        if collateral_delta > 0:
            leverage_delta = _clamp_leverage(intent.size_delta_e6 * LEVERAGE_PRECISION // collateral_delta)
            size_delta = collateral_delta * leverage_delta // LEVERAGE_PRECISION
        else:  # leverage increase without new collateral
            leverage_delta = min(intent.size_delta_e6 * LEVERAGE_PRECISION // c, MAX_LEVERAGE - lev)
            if leverage_delta <= 0:
                raise ValueError("gTrade: increase beyond max leverage")
            size_delta = c * leverage_delta // LEVERAGE_PRECISION
        existing_size = self.size
        new_size = existing_size + size_delta
        new_leverage = (
            lev + leverage_delta if collateral_delta == 0
            else new_size * LEVERAGE_PRECISION // (c + collateral_delta)
        )
        holding = self.holding_fee(intent.time)
        fees = split_fee(size_delta * FEE_BPS // BPS, False)
        total_fee = sum(fees.values())
        new_collateral = c + collateral_delta - holding - total_fee
        if new_collateral <= 0:
            raise ValueError("gTrade: fees exceed the collateral (the diamond reverts)")
        pp = pnl_percent(self.open_price, price, self.is_long, lev)
        existing_pnl = tdiv(pp * c, PERCENT_100)
        old_plus_pnl = existing_size + existing_pnl if self.is_long else existing_size - existing_pnl
        new_open_price = (old_plus_pnl * self.open_price + size_delta * price) // (old_plus_pnl + size_delta)
        existing_liq = self.liq_price(holding)
        op = self._base_op(KIND_INCREASE, MARKET_PARTIAL_OPEN, price) | self._trade_fields() | fees | {
            "feeMode": FEES_TRADING,
            "chargeHolding": 1,
            "holdingFee": holding,
            "realizedTradingFees": self.realized_holding + holding,
            "collateralDelta": collateral_delta,
            "leverageDelta": leverage_delta,
            "positionSizeCollateralDelta": size_delta,
            "existingPositionSizeCollateral": existing_size,
            "newPositionSizeCollateral": new_size,
            "newCollateralAmount": new_collateral,
            "newLeverage": new_leverage,
            "existingPnlCollateral": existing_pnl,
            "oldPosSizePlusPnlCollateral": old_plus_pnl,
            "newOpenPrice": new_open_price,
            "liqPrice": existing_liq,
            "impactPositionSizeToken": self._position_size_token(size_delta, price),
        }
        self.collateral = new_collateral
        self.leverage = new_leverage
        self.open_price = new_open_price
        self.entry_acc = self._acc(intent.time)
        self.realized_holding += holding
        op["newLiqPrice"] = self.liq_price(0)
        amounts = Amounts(
            size_delta_usd=usd(size_delta),
            size_after_usd=usd(self.size),
            collateral_delta_usd=usd(collateral_delta),
            collateral_after_usd=usd(new_collateral),
            price=price_usd(price),
            fee_usd=usd(total_fee),
            funding_usd=usd(holding),
            realized_pnl_before_fees_usd=Decimal(0),
        )
        return self._step(intent, Action.INCREASE, op, amounts)

    def _decrease(self, intent: Intent, price: int) -> Step:
        if intent.size_delta_e6 <= 0:
            raise ValueError("gTrade: a decrease needs a positive size")
        c, lev = self.collateral, self.leverage
        collateral_delta = intent.size_delta_e6 * LEVERAGE_PRECISION // lev
        if collateral_delta >= c:  # the whole trade: a market close
            return self._close(intent, price)
        if collateral_delta == 0:
            raise ValueError("gTrade: decrease below one collateral unit")
        size_delta = collateral_delta * lev // LEVERAGE_PRECISION
        existing_size = self.size
        holding = self.holding_fee(intent.time)
        fees = split_fee(size_delta * FEE_BPS // BPS, False)
        total_fee = sum(fees.values())
        pp = pnl_percent(self.open_price, price, self.is_long, lev)
        existing_pnl = tdiv(pp * c, PERCENT_100)
        partial_pnl = tdiv(existing_pnl * size_delta, existing_size)
        available = collateral_delta - total_fee
        sent = available + partial_pnl - holding
        new_collateral = c - collateral_delta - max(0, -sent)  # a trader debt reduces the collateral
        if new_collateral <= 0:
            raise ValueError("gTrade: decrease leaves no collateral (the diamond reverts)")
        existing_liq = self.liq_price(holding)
        op = self._base_op(KIND_DECREASE, MARKET_PARTIAL_CLOSE, price) | self._trade_fields() | fees | {
            "feeMode": FEES_TRADING,
            "chargeHolding": 1,
            "holdingFee": holding,
            "realizedTradingFees": self.realized_holding + holding,
            "collateralDelta": collateral_delta,
            "leverageDelta": 0,
            "positionSizeCollateralDelta": size_delta,
            "existingPositionSizeCollateral": existing_size,
            "percentProfit": pp,
            "existingPnlCollateral": existing_pnl,
            "partialRawPnlCollateral": partial_pnl,
            "partialNetPnlCollateral": partial_pnl - total_fee - holding,
            "availableCollateralInDiamond": available,
            "collateralSentToTrader": sent,
            "newCollateralAmount": new_collateral,
            "newLeverage": lev,
            "liqPrice": existing_liq,
            "impactPositionSizeToken": self._position_size_token(size_delta, price),
        }
        self.collateral = new_collateral
        self.entry_acc = self._acc(intent.time)
        self.realized_holding += holding
        op["newLiqPrice"] = self.liq_price(0)
        amounts = Amounts(
            size_delta_usd=usd(size_delta),
            size_after_usd=usd(self.size),
            collateral_delta_usd=-usd(collateral_delta),
            collateral_after_usd=usd(new_collateral),
            price=price_usd(price),
            fee_usd=usd(total_fee),
            funding_usd=usd(holding),
            realized_pnl_before_fees_usd=usd(partial_pnl),
        )
        return self._step(intent, Action.DECREASE, op, amounts, cash_out=max(0, sent))

    def _update_leverage(self, intent: Intent, price: int) -> Step:
        deposit = intent.action is Action.COLLATERAL_DEPOSIT
        delta_asked = intent.collateral_delta_e6
        c, lev = self.collateral, self.leverage
        if delta_asked <= 0 or (not deposit and delta_asked >= c):
            raise ValueError("gTrade: bad collateral delta for a leverage update")
        notional = c * lev
        target = c + delta_asked if deposit else c - delta_asked
        new_leverage = (2 * notional + target) // (2 * target)  # nearest leverage
        if deposit:
            new_leverage = max(MIN_LEVERAGE, min(lev - 1, new_leverage))
        else:
            new_leverage = min(MAX_LEVERAGE, max(lev + 1, new_leverage))
        moved = new_leverage < lev if deposit else new_leverage > lev
        if not moved:
            raise ValueError("gTrade: leverage update out of the pair's leverage bounds")
        new_collateral_raw = notional // new_leverage  # _getNewCollateralAmount
        collateral_delta = abs(new_collateral_raw - c)
        gov_fee = LEVERAGE_UPDATE_GOV_FEE
        if new_collateral_raw <= gov_fee:
            raise ValueError("gTrade: collateral does not cover the gov fee")
        holding = self.holding_fee(intent.time)
        existing_liq = self.liq_price(holding)
        op = self._base_op(KIND_LEVERAGE, UPDATE_LEVERAGE, price) | self._trade_fields() | {
            "feeMode": FEES_GOV_ONLY,
            "govFee": gov_fee,
            "isIncrease": int(not deposit),
            "collateralDelta": collateral_delta,
            "newCollateralAmount": new_collateral_raw - gov_fee,
            "newLeverage": new_leverage,
            "liqPrice": existing_liq,
        }
        self.collateral = new_collateral_raw - gov_fee
        self.leverage = new_leverage
        op["newLiqPrice"] = self.liq_price(self.holding_fee(intent.time))
        amounts = Amounts(
            size_delta_usd=Decimal(0),
            size_after_usd=usd(self.size),
            collateral_delta_usd=usd(collateral_delta) if deposit else -usd(collateral_delta),
            collateral_after_usd=usd(self.collateral),
            price=price_usd(price),
            fee_usd=usd(gov_fee),
            funding_usd=Decimal(0),
            realized_pnl_before_fees_usd=Decimal(0),
        )
        return self._step(intent, intent.action, op, amounts, cash_out=0 if deposit else collateral_delta)


class GTradeVenue(Venue):
    """The gTrade diamond: v9 facet until ``upgrade_block``, v10 facet from it on.

    Contracts: the diamond (``contract_key``, where every log is emitted and traders trade) and
    its two facets (implementations, no logs of their own). The upgrade transaction is due at
    ``upgrade_block`` and mined in ``upgrade_block - 1`` (a block without ops); it emits the
    diamond's DiamondCut, which both official ABIs know.
    """

    platform = "gtrade"
    version = "v9/v10"
    contract = "GNSMultiCollatDiamond"
    MARKETS = tuple(PAIRS)

    def __init__(
        self,
        genesis_time: int = DEFAULT_GENESIS,
        upgrade_block: int = 10**12,
        contract_key: str = "gtrade.devchain.diamond",
        indexed_from_block: int = 0,
    ) -> None:
        self.upgrade_block = upgrade_block
        self.contract_key = contract_key
        self.facet_keys = {
            "v9": contract_key.replace("diamond", "facet_v9"),
            "v10": contract_key.replace("diamond", "facet_v10"),
        }
        self.holding = HoldingFeeClock(genesis_time)
        self.indexed_from_block = indexed_from_block
        self._trade_counter: dict[str, int] = {}
        self._order_counter: dict[str, int] = {}

    def version_at(self, block: int) -> str:
        return "v9" if block < self.upgrade_block else "v10"

    def artifact_at(self, block: int) -> str:
        return FACETS[self.version_at(block)]

    def next_trade_index(self, trader: str) -> int:
        index = self._trade_counter.get(trader, 0)
        self._trade_counter[trader] = index + 1
        return index

    def contract_keys(self) -> list[str]:
        return [self.contract_key, self.facet_keys["v9"], self.facet_keys["v10"]]

    def markets(self) -> list[str]:
        return list(self.MARKETS)

    def open_position(self, trader: str, market: Market, is_long: bool) -> GTradePosition:
        return GTradePosition(self, trader, market, is_long)

    def finalize(self, steps: list[Step]) -> None:
        """orderId.index: a per-trader counter of executed orders, in emission order."""
        for step in steps:
            trader = step.position.trader
            n = self._order_counter.get(trader, 0)
            step.op["orderIndex"] = n
            self._order_counter[trader] = n + 1

    def deploy(self, rpc, sender: str) -> dict[str, tuple[str, int]]:
        deployed = {}
        for version, name in FACETS.items():
            deployed[self.facet_keys[version]] = (deploy(rpc, name, sender), rpc.block_number())
        v9 = int(deployed[self.facet_keys["v9"]][0], 16).to_bytes(32, "big")
        deployed[self.contract_key] = (deploy(rpc, "GTradeDiamond", sender, v9), rpc.block_number())
        self.attach(deployed)
        return deployed

    def upgrade_calldata(self) -> bytes:
        return UPGRADE_SELECTOR + int(self.addresses[self.facet_keys["v10"]], 16).to_bytes(32, "big")

    def admin_blocks(self) -> list[int]:
        return [self.upgrade_block]

    def admin_calls(self, block: int) -> list[tuple[str, bytes]]:
        """``upgradeTo(v10 facet)``, due at ``upgrade_block``."""
        if block != self.upgrade_block:
            return []
        return [(self.addresses[self.contract_key], self.upgrade_calldata())]

    def registry_rows(self, chain_id: int) -> list[RegistryRow]:
        address = self.addresses[self.contract_key]
        start = max(self.deploy_blocks[self.contract_key], self.indexed_from_block)
        rows = []
        if start <= self.upgrade_block - 1:
            rows.append(RegistryRow(
                contract_id="gtrade_v9.devchain.diamond", platform=self.platform, version="v9",
                chain_id=chain_id, address=address, from_block=start,
                to_block=self.upgrade_block - 1, abi=ABIS["v9"], contract=self.contract,
            ))
        rows.append(RegistryRow(
            contract_id="gtrade_v10.devchain.diamond", platform=self.platform, version="v10",
            chain_id=chain_id, address=address, from_block=max(start, self.upgrade_block),
            to_block=None, abi=ABIS["v10"], contract=self.contract,
        ))
        return rows
