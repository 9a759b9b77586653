"""The vocabulary shared by the scenario generator and the venue emulators.

A scenario is a set of trader *intents* (open, increase, decrease, close, liquidate,
collateral moves) at block times and prices. A venue turns each intent on one position into
a :class:`Step`: the ``Op`` its emulator contract emits, and the ground-truth ledger amounts
in exact USD (``Decimal``). Venue math happens in the venue's own integer units with the
venue's own rounding, so the ledger equals what a correct decoder can reconstruct from the
emitted logs, to the last digit.

Units used across venues:
- prices: integers with 8 decimals (``price_e8``); every venue precision is an exact multiple
  (GMX 1e30 -> x1e22, gTrade 1e10 -> x100, Synthetix 1e18 -> x1e10).
- intent USD amounts: integers with 6 decimals (``*_e6``), exact in every venue's units.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal, getcontext
from typing import TYPE_CHECKING

from copytrade.venues.registry import RegistryRow

if TYPE_CHECKING:
    from copytrade.devchain.rpc import DevRpc

getcontext().prec = 90  # uint256 / 1e30 with every digit

PRICE_DECIMALS = 8
PRICE_SCALE = 10**PRICE_DECIMALS
USD_E6 = 10**6


class Action(str, enum.Enum):
    """The normalized action vocabulary of ``perp_trading_event_log``."""

    OPEN = "OPEN"
    INCREASE = "INCREASE"
    DECREASE = "DECREASE"
    CLOSE = "CLOSE"
    LIQUIDATE = "LIQUIDATE"
    COLLATERAL_DEPOSIT = "COLLATERAL_DEPOSIT"
    COLLATERAL_WITHDRAW = "COLLATERAL_WITHDRAW"


class Trigger(str, enum.Enum):
    """Why an action executed: a market order, a limit order, a stop, or a keeper."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"
    LIQUIDATION = "LIQUIDATION"


@dataclass(frozen=True)
class Market:
    """A traded market and the parameters of its simulated price path."""

    symbol: str  # "ETH/USD"
    base: str  # "ETH"
    start_price: float
    annual_vol: float
    token_decimals: int  # decimals of the index token (GMX v2 per-unit prices need them)
    jump_intensity_per_day: float = 0.3
    jump_vol: float = 0.03


@dataclass(frozen=True)
class Intent:
    """One thing a trader does to one position, at one block.

    ``size_delta_e6`` / ``collateral_delta_e6`` are what the trader asks for; CLOSE and
    LIQUIDATE act on the whole position and ignore them. For DECREASE and
    COLLATERAL_WITHDRAW, ``collateral_delta_e6`` is the collateral the trader takes out.
    """

    action: Action
    time: int  # block timestamp, seconds
    block: int
    price_e8: int
    size_delta_e6: int = 0
    collateral_delta_e6: int = 0
    trigger: Trigger = Trigger.MARKET
    # Venues that net positions per account and market (Synthetix) can close and open the
    # other side in one trade: a CLOSE with flip_size_e6 > 0 also opens that much opposite.
    flip_size_e6: int = 0
    flip_collateral_e6: int = 0


@dataclass(frozen=True)
class Amounts:
    """Ground-truth USD amounts of one action (exact decimals).

    Sign conventions: fees and funding are costs (positive = paid by the trader);
    ``realized_pnl_usd = realized_pnl_before_fees_usd - fee_usd - funding_usd``, so that the
    realized PnL of a closed position summed over its actions equals cash out minus cash in.
    """

    size_delta_usd: Decimal
    size_after_usd: Decimal
    collateral_delta_usd: Decimal
    collateral_after_usd: Decimal
    price: Decimal
    fee_usd: Decimal
    funding_usd: Decimal
    realized_pnl_before_fees_usd: Decimal

    @property
    def realized_pnl_usd(self) -> Decimal:
        return self.realized_pnl_before_fees_usd - self.fee_usd - self.funding_usd

    @property
    def leverage(self) -> Decimal:
        if self.collateral_after_usd > 0 and self.size_after_usd > 0:
            return self.size_after_usd / self.collateral_after_usd
        return Decimal(0)


@dataclass
class Step:
    """What one intent becomes on chain and in the ledger.

    ``contract_key`` names the deployment that receives the op and ``artifact`` the emulator
    contract whose ``Op`` layout encodes it (they differ across an in-place upgrade).
    ``op`` is one row of the contract's ``Op`` struct (see :mod:`calldata`); ``n_logs`` how
    many logs it emits; ``anchor`` the offset (within those logs) of the log that identifies
    the action in the normalized history (e.g. IncreasePosition, not CollectMarginFees).
    :meth:`Venue.finalize` fills fields that depend on global emission order (position ids,
    funding indices) once the step's place in the chain is known.

    ``shares_anchor``: the step emits nothing of its own; its action is carried by the
    previous step's anchor log (a Synthetix flip: one PositionModified is a CLOSE and an OPEN).
    ``position`` is the position the step belongs to (for a flip's OPEN, the new position).
    ``extra["cash_out_usd"]``: what the trader received in this step (for ledger identities).
    """

    intent: Intent
    contract_key: str
    artifact: str
    op: dict[str, int]
    n_logs: int
    anchor: int
    action: Action
    amounts: Amounts
    position: VenuePosition
    extra: dict = field(default_factory=dict)
    shares_anchor: bool = False


class VenuePosition(ABC):
    """One position's life on one venue, in the venue's own integer units."""

    def __init__(self, trader: str, market: Market, is_long: bool, position_key: str) -> None:
        self.trader = trader  # 0x-prefixed lower-case address
        self.market = market
        self.is_long = is_long
        self.position_key = position_key  # the venue's own identifier, hex or decimal string
        self.closed = False

    @abstractmethod
    def apply(self, intent: Intent) -> list[Step]:
        """Update the position and return the steps (usually one; a flip may be two)."""

    @abstractmethod
    def is_liquidatable(self, time: int, price_e8: int) -> bool:
        """Would a keeper liquidate the position at this time and price?"""

    @abstractmethod
    def liquidation_price_e8(self, time: int) -> int | None:
        """The price at which the position becomes liquidatable, with fees accrued to ``time``."""

    @property
    @abstractmethod
    def size_usd(self) -> Decimal: ...

    @property
    @abstractmethod
    def collateral_usd(self) -> Decimal: ...


class Venue(ABC):
    """A venue emulator: its deployments, its markets, how positions open and how ops encode."""

    platform: str  # "gmx", "gtrade", "synthetix"
    version: str  # "v1", "v2", "v9"/"v10", "perps_v2"

    @abstractmethod
    def markets(self) -> list[str]:
        """Symbols this venue lists (a subset of the scenario's markets)."""

    @abstractmethod
    def open_position(self, trader: str, market: Market, is_long: bool) -> VenuePosition:
        """A fresh, empty position; the first ``apply`` must be an OPEN intent."""

    def finalize(self, steps: list[Step]) -> None:
        """Called once per block with that block's steps of this venue, in emission order."""

    @abstractmethod
    def contract_keys(self) -> list[str]:
        """Keys of every contract this venue deploys (including implementation contracts)."""

    @property
    def trader_key(self) -> str:
        """The name traders are assigned to (one per venue deployment)."""
        return self.contract_keys()[0]

    @property
    def addresses(self) -> dict[str, str]:
        """{contract_key: address} of this venue's deployed contracts."""
        return self.__dict__.setdefault("_addresses", {})

    @property
    def deploy_blocks(self) -> dict[str, int]:
        return self.__dict__.setdefault("_deploy_blocks", {})

    def attach(self, deployed: dict[str, tuple[str, int]]) -> None:
        """Bind to contracts deployed earlier: {contract_key: (address, deploy block)}."""
        for key, (address, block) in deployed.items():
            self.addresses[key] = address
            self.deploy_blocks[key] = block

    @abstractmethod
    def deploy(self, rpc: DevRpc, sender: str) -> dict[str, tuple[str, int]]:
        """Deploy this venue's contracts (with :func:`copytrade.devchain.deploy.deploy`),
        :meth:`attach` them and return {contract_key: (address, deploy block)}."""

    def admin_blocks(self) -> list[int]:
        """Blocks before whose ops :meth:`admin_calls` must run (e.g. an in-place upgrade)."""
        return []

    def admin_calls(self, block: int) -> list[tuple[str, bytes]]:
        """(address, calldata) transactions due at ``block``; mined in ``block - 1``."""
        return []

    @abstractmethod
    def registry_rows(self, chain_id: int) -> list[RegistryRow]:
        """The contract registry rows of this venue's deployments (DESIGN.md §4)."""

    def deploy_contract(self, rpc: DevRpc, sender: str, key: str, artifact: str) -> dict[str, tuple[str, int]]:
        """Deploy one emulator as ``key`` and attach it."""
        from copytrade.devchain.deploy import deploy

        deployed = {key: (deploy(rpc, artifact, sender), rpc.block_number())}
        self.attach(deployed)
        return deployed

    def live_row(self, key: str, chain_id: int, abi: str, contract: str, from_block: int = 0) -> RegistryRow:
        """The row of a contract live from its deploy block (or from ``from_block`` if later)."""
        return RegistryRow(
            contract_id=key, platform=self.platform, version=self.version, chain_id=chain_id,
            address=self.addresses[key], from_block=max(self.deploy_blocks[key], from_block),
            to_block=None, abi=abi, contract=contract,
        )
