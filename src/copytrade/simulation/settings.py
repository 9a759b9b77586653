"""What a follower does when it copies a leader: one validated settings object.

The same object drives the historical simulation and live copying (DESIGN.md §5): sizing,
leverage, limits, filters, exits and the cost model. Invalid values are refused with the
field named (pydantic's errors carry the field path); :func:`settings_error` turns them into
one readable line for the CLI and the API.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Taker fee per venue, in basis points of the notional of every fill (open, increase,
# decrease, close). Public schedules, rounded: GMX v1 0.1%, GMX v2 0.05-0.07%, gTrade 0.06-0.08%
# on crypto, Synthetix Perps v2 0.02-0.1% depending on the market's skew.
DEFAULT_FEE_BPS: dict[str, float] = {"gmx": 10.0, "gtrade": 8.0, "synthetix": 5.0}


class Sizing(IntEnum):
    RATIO = 0  # collateral = ratio x the leader's collateral
    FIXED = 1  # collateral = a fixed USD amount per position
    BASELINE = 2  # collateral = the leader's collateral scaled from its baseline to ours


class SideFilter(IntEnum):
    BOTH = 0
    LONG = 1
    SHORT = 2


class CopySettings(BaseModel):
    """One follower's settings. Percentages are in percent (5 = 5%), amounts in USD."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["default", "reverse"] = "default"
    sizing: Literal["ratio", "fixed", "baseline"] = "ratio"
    ratio: float = Field(1.0, gt=0, le=1000, description="follower collateral / leader collateral (sizing=ratio)")
    fixed_collateral_usd: float = Field(100.0, gt=0, description="collateral per position (sizing=fixed)")
    baseline_collateral_usd: float = Field(
        100.0, gt=0, description="our collateral for a position of the leader's baseline size (sizing=baseline)"
    )
    leverage: Literal["follow", "fixed"] = "follow"
    fixed_leverage: float = Field(5.0, gt=0, le=200)
    min_leverage: float = Field(1.0, gt=0, le=200)
    max_leverage: float = Field(100.0, gt=0, le=200)
    min_collateral_usd: float = Field(0.0, ge=0, description="orders below this are skipped")
    max_collateral_usd: float | None = Field(None, gt=0, description="orders above this are cut to it")
    max_margin_per_position_usd: float | None = Field(None, gt=0)
    max_open_positions: int | None = Field(None, ge=1)
    initial_capital_usd: float = Field(10_000.0, gt=0)
    pairs_allow: list[str] | None = Field(None, description="only these markets (e.g. ETH/USD)")
    pairs_deny: list[str] = Field(default_factory=list)
    side: Literal["both", "long", "short"] = Field("both", description="which of OUR sides to take")
    stop_loss_pct: float | None = Field(None, gt=0, le=100, description="of the position's margin")
    stop_loss_usd: float | None = Field(None, gt=0)
    take_profit_pct: float | None = Field(None, gt=0, le=100_000)
    take_profit_usd: float | None = Field(None, gt=0)
    copy_delay_seconds: int = Field(0, ge=0, le=7 * 86_400)
    slippage_bps: float = Field(0.0, ge=0, le=1_000)
    impact_bps_per_million: float = Field(0.0, ge=0, le=10_000, description="extra slippage per $1M notional")
    fee_bps: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_FEE_BPS))
    funding: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> CopySettings:
        if self.min_leverage > self.max_leverage:
            raise ValueError("min_leverage must not exceed max_leverage")
        if self.max_collateral_usd is not None and self.min_collateral_usd > self.max_collateral_usd:
            raise ValueError("min_collateral_usd must not exceed max_collateral_usd")
        if self.leverage == "fixed" and not self.min_leverage <= self.fixed_leverage <= self.max_leverage:
            raise ValueError("fixed_leverage must lie within [min_leverage, max_leverage]")
        for venue, bps in self.fee_bps.items():
            if not 0 <= bps <= 1_000:
                raise ValueError(f"fee_bps[{venue}] must lie within [0, 1000]")
        if self.pairs_allow is not None and set(self.pairs_allow) & set(self.pairs_deny):
            raise ValueError("pairs_allow and pairs_deny overlap")
        return self

    @classmethod
    def costless(cls, **overrides) -> CopySettings:
        """No fees, no funding, no slippage: the follower's PnL is the price PnL alone."""
        return cls(**{"fee_bps": {v: 0.0 for v in DEFAULT_FEE_BPS}, "funding": False, **overrides})

    def fee_for(self, platform: str) -> float:
        return self.fee_bps.get(platform, DEFAULT_FEE_BPS.get(platform, 0.0))


def settings_error(exc: ValidationError) -> str:
    """One line per problem, each naming the field: ``ratio: Input should be greater than 0``."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)
