"""GMX v1 Vault emulator: the Vault's position accounting in its own integer units.

Follows gmx-io/gmx-contracts ``contracts/core/Vault.sol``: USD and prices with 30 decimals,
a 10 bps margin fee on size changes, a cumulative funding (borrow) rate per collateral token
updated every hour (``FUNDING_RATE_PRECISION`` = 1e6), average entry price via
``getNextAveragePrice``, realized PnL proportional to the size decreased (``_reduceCollateral``)
and keeper liquidations (``validateLiquidation``). Longs post the index token as collateral,
shorts post USDC.

Deliberate simplifications, documented so the ledger stays the single truth:
- ``minProfitBasisPoints`` is 0 (as on Arbitrum since 2022), so ``getDelta`` never zeroes profit.
- A position over max leverage (liquidation state 2, which the Vault closes instead of
  liquidating) is liquidated like state 1.
"""

from __future__ import annotations

from decimal import Decimal

from eth_utils import keccak

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
from copytrade.devchain.tokens import token_address, token_decimals

USD = 10**30
FROM_E8 = 10**22  # price_e8 -> 1e30
FROM_E6 = 10**24  # usd_e6 -> 1e30
BASIS_POINTS = 10_000
MARGIN_FEE_BPS = 10
FUNDING_RATE_PRECISION = 10**6
FUNDING_INTERVAL = 3600
LIQUIDATION_FEE_USD = 5 * USD
MAX_LEVERAGE_BPS = 50 * BASIS_POINTS

OP_INCREASE, OP_DECREASE, OP_LIQUIDATE = 0, 1, 2


def usd(value: int) -> Decimal:
    return Decimal(value) / USD


def hourly_funding_rate(token: str, hour: int) -> int:
    """The borrow rate charged for one funding interval, per 1e6 of size (deterministic).

    Between 5 and 60 (0.0005%-0.006% an hour, ~4-50% a year), varying by token and hour the
    way utilization does.
    """
    digest = keccak(text=f"gmx_v1-funding:{token}:{hour}")
    return 5 + digest[0] % 56


class FundingClock:
    """Cumulative funding rate per collateral token as a pure function of time.

    The Vault updates the rate at most once per interval; the dev chain assumes some action
    touches every token every hour (true on a busy venue), so ``cumulative(t)`` is the sum of
    the hourly rates of every whole hour since genesis.
    """

    def __init__(self, genesis_time: int) -> None:
        self.genesis_hour = genesis_time // FUNDING_INTERVAL
        self._cum: dict[str, list[int]] = {}

    def cumulative(self, token: str, time: int) -> int:
        hours = time // FUNDING_INTERVAL - self.genesis_hour
        series = self._cum.setdefault(token, [0])
        while len(series) <= hours:
            h = self.genesis_hour + len(series)
            series.append(series[-1] + hourly_funding_rate(token, h))
        return series[max(hours, 0)]


class GmxV1Position(VenuePosition):
    def __init__(self, venue: GmxV1Venue, trader: str, market: Market, is_long: bool) -> None:
        self.venue = venue
        self.index_token = token_address(market.base)
        self.collateral_symbol = market.base if is_long else "USDC"
        self.collateral_token = token_address(self.collateral_symbol)
        key = keccak(
            bytes.fromhex(trader[2:])
            + bytes.fromhex(self.collateral_token[2:])
            + bytes.fromhex(self.index_token[2:])
            + (b"\x01" if is_long else b"\x00")
        )
        super().__init__(trader, market, is_long, "0x" + key.hex())
        self.key_int = int.from_bytes(key, "big")
        self.size = 0
        self.collateral = 0
        self.average_price = 0
        self.entry_funding_rate = 0
        self.reserve_amount = 0
        self.realised_pnl = 0

    # -- Vault math ------------------------------------------------------------------------
    def _delta(self, price: int) -> tuple[bool, int]:
        """``getDelta``: (hasProfit, |unrealized pnl|) of the whole position."""
        if self.size == 0:
            return False, 0
        avg = self.average_price
        delta = self.size * abs(avg - price) // avg
        has_profit = price > avg if self.is_long else avg > price
        return has_profit, delta

    def _funding_fee(self, cum: int) -> int:
        if self.size == 0:
            return 0
        return self.size * (cum - self.entry_funding_rate) // FUNDING_RATE_PRECISION

    def _collateral_price(self, price: int) -> int:
        return price if self.is_long else USD

    def _tokens(self, usd_amount: int, price: int) -> int:
        decimals = token_decimals(self.collateral_symbol)
        return usd_amount * 10**decimals // self._collateral_price(price)

    def _cum(self, time: int) -> int:
        return self.venue.funding.cumulative(self.collateral_token, time)

    def _liquidation_state(self, time: int, price: int) -> bool:
        has_profit, delta = self._delta(price)
        margin_fees = self._funding_fee(self._cum(time)) + self.size * MARGIN_FEE_BPS // BASIS_POINTS
        if not has_profit and self.collateral < delta:
            return True
        remaining = self.collateral if has_profit else self.collateral - delta
        if remaining < margin_fees + LIQUIDATION_FEE_USD:
            return True
        return remaining * MAX_LEVERAGE_BPS < self.size * BASIS_POINTS

    # -- VenuePosition -----------------------------------------------------------------------
    @property
    def size_usd(self) -> Decimal:
        return usd(self.size)

    @property
    def collateral_usd(self) -> Decimal:
        return usd(self.collateral)

    def is_liquidatable(self, time: int, price_e8: int) -> bool:
        return self.size > 0 and self._liquidation_state(time, price_e8 * FROM_E8)

    def liquidation_price_e8(self, time: int) -> int | None:
        if self.size == 0:
            return None
        margin_fees = self._funding_fee(self._cum(time)) + self.size * MARGIN_FEE_BPS // BASIS_POINTS
        # the tighter of: remaining collateral covers fees + liquidation fee, and max leverage
        buffer = min(
            self.collateral - margin_fees - LIQUIDATION_FEE_USD,
            self.collateral - self.size * BASIS_POINTS // MAX_LEVERAGE_BPS,
        )
        move = self.average_price * buffer // self.size  # price move that eats the buffer
        price = self.average_price - move if self.is_long else self.average_price + move
        return max(price // FROM_E8, 1)

    def apply(self, intent: Intent) -> list[Step]:
        if self.closed:
            raise ValueError(f"position {self.position_key} is closed")
        price = intent.price_e8 * FROM_E8
        if intent.action in (Action.OPEN, Action.INCREASE, Action.COLLATERAL_DEPOSIT):
            return [self._increase(intent, price)]
        if intent.action in (Action.DECREASE, Action.CLOSE, Action.COLLATERAL_WITHDRAW):
            return [self._decrease(intent, price)]
        if intent.action is Action.LIQUIDATE:
            return [self._liquidate(intent, price)]
        raise ValueError(f"GMX v1 cannot {intent.action}")

    def _base_op(self, kind: int, intent: Intent, price: int) -> dict[str, int]:
        return {
            "kind": kind,
            "fundingRate": self._cum(intent.time),
            "key": self.key_int,
            "account": int(self.trader, 16),
            "collateralToken": int(self.collateral_token, 16),
            "indexToken": int(self.index_token, 16),
            "isLong": int(self.is_long),
            "price": price,
            "markPrice": price,
        }

    def _state_fields(self) -> dict[str, int]:
        return {
            "size": self.size,
            "collateral": self.collateral,
            "averagePrice": self.average_price,
            "entryFundingRate": self.entry_funding_rate,
            "reserveAmount": self.reserve_amount,
            "realisedPnl": self.realised_pnl,
        }

    def _increase(self, intent: Intent, price: int) -> Step:
        size_delta = intent.size_delta_e6 * FROM_E6
        collateral_delta = intent.collateral_delta_e6 * FROM_E6
        cum = self._cum(intent.time)
        position_fee = size_delta * MARGIN_FEE_BPS // BASIS_POINTS
        funding_fee = self._funding_fee(cum)
        fee = position_fee + funding_fee
        action = Action.OPEN if self.size == 0 else (
            Action.INCREASE if size_delta > 0 else Action.COLLATERAL_DEPOSIT
        )
        if self.size == 0:
            self.average_price = price
        elif size_delta > 0:
            has_profit, delta = self._delta(price)
            next_size = self.size + size_delta
            if self.is_long:
                divisor = next_size + delta if has_profit else next_size - delta
            else:
                divisor = next_size - delta if has_profit else next_size + delta
            self.average_price = price * next_size // divisor
        self.collateral += collateral_delta
        if self.collateral < fee:
            raise ValueError("GMX v1: collateral does not cover the fee (Vault reverts)")
        self.collateral -= fee
        self.entry_funding_rate = cum
        self.size += size_delta
        self.reserve_amount += self._tokens(size_delta, price)
        op = self._base_op(OP_INCREASE, intent, price) | self._state_fields() | {
            "collateralDelta": collateral_delta,
            "sizeDelta": size_delta,
            "fee": fee,
            "marginFees": fee,
            "feeTokens": self._tokens(fee, price),
        }
        amounts = Amounts(
            size_delta_usd=usd(size_delta),
            size_after_usd=usd(self.size),
            collateral_delta_usd=usd(collateral_delta),
            collateral_after_usd=usd(self.collateral),
            price=usd(price),
            fee_usd=usd(position_fee),
            funding_usd=usd(funding_fee),
            realized_pnl_before_fees_usd=Decimal(0),
        )
        return Step(intent, self.venue.contract_key, self.venue.artifact, op, n_logs=3, anchor=1, action=action,
                    amounts=amounts, position=self)

    def _decrease(self, intent: Intent, price: int) -> Step:
        closing = intent.action is Action.CLOSE
        size_delta = self.size if closing else intent.size_delta_e6 * FROM_E6
        collateral_delta = 0 if closing else intent.collateral_delta_e6 * FROM_E6
        if size_delta > self.size:
            raise ValueError("GMX v1: decrease larger than the position")
        if size_delta == self.size:
            closing = True
        cum = self._cum(intent.time)
        position_fee = size_delta * MARGIN_FEE_BPS // BASIS_POINTS
        funding_fee = self._funding_fee(cum)
        fee = position_fee + funding_fee
        has_profit, delta = self._delta(price)
        adjusted = size_delta * delta // self.size
        usd_out = 0
        if adjusted > 0:
            if has_profit:
                usd_out = adjusted
                self.realised_pnl += adjusted
            else:
                self.collateral -= adjusted
                self.realised_pnl -= adjusted
        if collateral_delta > 0:
            usd_out += collateral_delta
            self.collateral -= collateral_delta
        if closing:
            usd_out += self.collateral
            self.collateral = 0
        if usd_out > fee:
            usd_out_after_fee = usd_out - fee
        else:
            self.collateral -= fee
            usd_out_after_fee = usd_out
        if self.collateral < 0:
            raise ValueError("GMX v1: decrease leaves negative collateral (Vault reverts)")
        op = self._base_op(OP_DECREASE, intent, price) | {
            "collateralDelta": collateral_delta,
            "sizeDelta": size_delta,
            "fee": usd_out - usd_out_after_fee,
            "marginFees": fee,
            "feeTokens": self._tokens(fee, price),
            "hasProfit": int(has_profit),
            "pnlDelta": adjusted,
            "isClose": int(closing),
        }
        if closing:
            # ClosePosition carries the position as it stands before deletion.
            op |= self._state_fields()
            self.size = 0
            self.reserve_amount = 0
            self.closed = True
            action = Action.CLOSE
        else:
            self.reserve_amount -= self.reserve_amount * size_delta // self.size
            self.entry_funding_rate = cum
            self.size -= size_delta
            op |= self._state_fields()
            action = Action.DECREASE if size_delta > 0 else Action.COLLATERAL_WITHDRAW
        amounts = Amounts(
            size_delta_usd=usd(size_delta),
            size_after_usd=usd(self.size),
            collateral_delta_usd=-usd(collateral_delta),
            collateral_after_usd=usd(self.collateral),
            price=usd(price),
            fee_usd=usd(position_fee),
            funding_usd=usd(funding_fee),
            realized_pnl_before_fees_usd=usd(adjusted if has_profit else -adjusted),
        )
        return Step(intent, self.venue.contract_key, self.venue.artifact, op, n_logs=4, anchor=2, action=action,
                    amounts=amounts, position=self, extra={"cash_out_usd": usd(usd_out_after_fee)})

    def _liquidate(self, intent: Intent, price: int) -> Step:
        cum = self._cum(intent.time)
        position_fee = self.size * MARGIN_FEE_BPS // BASIS_POINTS
        funding_fee = self._funding_fee(cum)
        margin_fees = position_fee + funding_fee
        op = self._base_op(OP_LIQUIDATE, intent, price) | self._state_fields() | {
            "marginFees": margin_fees,
            "feeTokens": self._tokens(margin_fees, price),
        }
        lost = self.collateral
        size = self.size
        self.size = self.collateral = self.reserve_amount = 0
        self.closed = True
        amounts = Amounts(
            size_delta_usd=usd(size),
            size_after_usd=Decimal(0),
            collateral_delta_usd=Decimal(0),
            collateral_after_usd=Decimal(0),
            price=usd(price),
            fee_usd=usd(position_fee),
            funding_usd=usd(funding_fee),
            # the trader loses the remaining collateral, whatever the fees were
            realized_pnl_before_fees_usd=usd(margin_fees - lost),
        )
        return Step(intent, self.venue.contract_key, self.venue.artifact, op, n_logs=2, anchor=1,
                    action=Action.LIQUIDATE, amounts=amounts, position=self)


class GmxV1Venue(Venue):
    """One GMX v1 Vault deployment; ``layout`` picks the 7-arg (arbitrum) or 8-arg (avalanche) UpdatePosition."""

    platform = "gmx"
    version = "v1"
    MARKETS = ("BTC/USD", "ETH/USD", "LINK/USD", "UNI/USD")

    def __init__(
        self, contract_key: str, layout: str, genesis_time: int, indexed_from_block: int = 0
    ) -> None:
        if layout not in ("arbitrum", "avalanche"):
            raise ValueError(f"unknown GMX v1 layout {layout!r}")
        self.contract_key = contract_key
        self.layout = layout
        self.artifact = "GmxV1VaultArbitrum" if layout == "arbitrum" else "GmxV1VaultAvalanche"
        self.abi = f"gmx_v1/Vault.{layout}.abi.json"
        self.funding = FundingClock(genesis_time)
        self.indexed_from_block = indexed_from_block
        self._funding_hour: dict[int, int] = {}

    def deploy(self, rpc, sender: str) -> dict[str, tuple[str, int]]:
        return self.deploy_contract(rpc, sender, self.contract_key, self.artifact)

    def registry_rows(self, chain_id: int) -> list[RegistryRow]:
        return [self.live_row(self.contract_key, chain_id, self.abi, "Vault", self.indexed_from_block)]

    def markets(self) -> list[str]:
        return list(self.MARKETS)

    def contract_keys(self) -> list[str]:
        return [self.contract_key]

    def open_position(self, trader: str, market: Market, is_long: bool) -> GmxV1Position:
        return GmxV1Position(self, trader, market, is_long)

    def finalize(self, steps: list[Step]) -> None:
        """The first update of a collateral token in a new funding interval emits UpdateFundingRate."""
        for step in steps:
            token = step.op["collateralToken"]
            hour = step.intent.time // FUNDING_INTERVAL
            if self._funding_hour.get(token) != hour:
                self._funding_hour[token] = hour
                step.op["emitFunding"] = 1
                step.n_logs += 1
                step.anchor += 1
