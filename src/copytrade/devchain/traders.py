"""Trader styles and the population of a scenario.

Each style is a recognisable way of trading, so that leaderboards and copy simulations have
something real to find: a steady trend follower, a scalper, a high-leverage gambler who gets
liquidated, a consistent loser worth reverse-copying, a whale with partial closes, an early
bird whose history starts before the indexed range, and noise traders.

Skill is modelled as foresight: with probability ``skill`` a trader picks the side of the
price move over its planned holding period, otherwise the other side. That gives the
trend follower a real edge and the loser a real anti-edge without hand-scripted outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eth_utils import keccak


@dataclass(frozen=True)
class Style:
    name: str
    weight: float
    positions_per_day: float
    hold_median_hours: float
    hold_sigma: float  # lognormal spread of the holding time
    leverage: tuple[float, float]
    collateral_usd: tuple[float, float]  # lognormal between these (5th-95th percentile-ish)
    skill: float
    stop_loss: tuple[float, float] | None  # adverse price move that triggers, as a fraction
    take_profit: tuple[float, float] | None
    p_increase: float = 0.0
    p_partial_close: float = 0.0
    partial_closes: int = 0
    p_collateral_move: float = 0.0


STYLES: dict[str, Style] = {
    s.name: s
    for s in (
        Style("trend", 0.12, 0.35, 40, 0.6, (2, 5), (2_000, 20_000), 0.63, (0.06, 0.10), (0.12, 0.25), p_increase=0.35, p_collateral_move=0.1),
        Style("scalper", 0.15, 6.0, 0.6, 0.7, (5, 15), (500, 3_000), 0.53, (0.004, 0.008), (0.006, 0.012)),
        Style("gambler", 0.10, 1.0, 6, 0.8, (25, 50), (200, 2_000), 0.48, None, None, p_increase=0.2),
        Style("loser", 0.10, 1.5, 8, 0.7, (5, 10), (1_000, 5_000), 0.36, None, (0.03, 0.05)),
        Style("whale", 0.05, 0.25, 72, 0.5, (2, 4), (200_000, 2_000_000), 0.57, (0.10, 0.15), None, p_increase=0.5, p_partial_close=0.8, partial_closes=3),
        Style("early_bird", 0.03, 0.3, 48, 0.5, (2, 3), (5_000, 30_000), 0.58, None, None, p_increase=0.3),
        Style("noise", 0.45, 0.8, 12, 1.0, (2, 20), (300, 10_000), 0.50, (0.03, 0.08), (0.03, 0.10), p_increase=0.15, p_partial_close=0.15, partial_closes=1, p_collateral_move=0.05),
    )
}


@dataclass(frozen=True)
class Trader:
    index: int
    address: str
    style: Style
    venue_key: str  # which venue deployment it trades on
    markets: tuple[str, ...]  # markets it trades, most liked first


def trader_address(seed: int, index: int) -> str:
    return "0x" + keccak(text=f"copytrade-devchain-trader:{seed}:{index}")[12:].hex()


def make_population(
    n: int,
    seed: int,
    venue_markets: dict[str, list[str]],
    venue_weights: dict[str, float],
    early_bird_venue: str,
) -> list[Trader]:
    """``n`` traders; the first of each style is guaranteed when ``n`` allows, so small
    scenarios still contain every style."""
    rng = np.random.Generator(np.random.PCG64(int.from_bytes(keccak(text=f"{seed}:population")[:8], "big")))
    styles = list(STYLES.values())
    names = [s.name for s in styles]
    weights = np.array([s.weight for s in styles])
    keys = list(venue_weights)
    vw = np.array([venue_weights[k] for k in keys])
    traders = []
    for i in range(n):
        if i < len(styles):
            style = styles[i]
        else:
            style = STYLES[names[rng.choice(len(styles), p=weights / weights.sum())]]
        if style.name == "early_bird":
            venue = early_bird_venue
        elif i < len(styles) * len(keys):
            venue = keys[(i // len(styles) + i) % len(keys)]  # spread the first ones over venues
        else:
            venue = keys[rng.choice(len(keys), p=vw / vw.sum())]
        available = venue_markets[venue]
        # BTC and ETH are everybody's favourites; each trader also likes one or two others
        favourites = [m for m in ("BTC/USD", "ETH/USD") if m in available]
        others = [m for m in available if m not in favourites]
        rng.shuffle(others)
        k = 1 + int(rng.integers(0, 2))
        markets = tuple(favourites[: 1 + int(rng.integers(0, 2))] + others[:k])
        traders.append(Trader(i, trader_address(seed, i), style, venue, markets))
    return traders
