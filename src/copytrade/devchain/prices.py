"""Per-market price paths: geometric Brownian motion with jumps, one bar a minute.

Deterministic for a (seed, market) pair. Prices are integers with 8 decimals (``price_e8``)
so that every venue's precision is an exact multiple of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eth_utils import keccak

from copytrade.devchain.model import PRICE_SCALE, Market

BAR_SECONDS = 60
SECONDS_PER_YEAR = 365 * 24 * 3600


def _rng(seed: int, tag: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(int.from_bytes(keccak(text=f"{seed}:{tag}")[:8], "big")))


@dataclass
class PricePath:
    """Bar ``i`` covers [start + 60 i, start + 60 (i + 1)); its price is the close of the bar."""

    market: Market
    start: int
    prices_e8: np.ndarray  # int64

    def index(self, time: int) -> int:
        i = (time - self.start) // BAR_SECONDS
        if i < 0 or i >= len(self.prices_e8):
            raise IndexError(f"{self.market.symbol}: no price at t={time}")
        return int(i)

    def at(self, time: int) -> int:
        return int(self.prices_e8[self.index(time)])

    def time_of(self, index: int) -> int:
        return self.start + index * BAR_SECONDS

    def first_cross(self, t_from: int, t_to: int, below: int | None, above: int | None) -> int | None:
        """Index of the first bar in [t_from, t_to) whose price is <= ``below`` or >= ``above``."""
        i0 = self.index(t_from)
        i1 = min(self.index(t_to - 1) + 1, len(self.prices_e8)) if t_to > t_from else i0
        if i1 <= i0:
            return None
        window = self.prices_e8[i0:i1]
        hit = np.zeros(len(window), dtype=bool)
        if below is not None:
            hit |= window <= below
        if above is not None:
            hit |= window >= above
        found = np.flatnonzero(hit)
        return int(i0 + found[0]) if len(found) else None


def simulate_path(market: Market, seed: int, start: int, days: float) -> PricePath:
    bars = int(days * 24 * 3600 // BAR_SECONDS) + 1
    rng = _rng(seed, f"price:{market.symbol}")
    dt = BAR_SECONDS / SECONDS_PER_YEAR
    sigma = market.annual_vol
    diffusion = rng.normal(-0.5 * sigma * sigma * dt, sigma * np.sqrt(dt), bars)
    jump_p = market.jump_intensity_per_day * BAR_SECONDS / 86_400
    jumps = (rng.random(bars) < jump_p) * rng.normal(0.0, market.jump_vol, bars)
    log_path = np.log(market.start_price) + np.cumsum(diffusion + jumps)
    prices = np.maximum(np.round(np.exp(log_path) * PRICE_SCALE), 1).astype(np.int64)
    return PricePath(market, start, prices)
