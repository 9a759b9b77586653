"""Sizing and cost formulas: ONE piece of code for the simulation and for live copying.

Compiled with numba so the replay kernel inlines them; plain Python callers (the live
broker, the reference implementation in the tests) call the same compiled functions.
"""

from __future__ import annotations

import math

from numba import njit

from copytrade.simulation.settings import Sizing


@njit(cache=True, error_model="numpy")
def order_collateral(sizing: int, ratio: float, fixed_usd: float, baseline_usd: float,
                     leader_collateral: float, leader_baseline: float, max_collateral: float,
                     max_margin: float) -> float:
    """The follower's collateral for a position the leader opens with ``leader_collateral``.

    ratio: ratio x leader; fixed: a fixed amount; baseline: the leader's collateral scaled
    so that the leader's baseline (its average collateral before the window) maps to ours
    (a leader without a baseline maps to ``baseline_usd``). Capped at the per-order maximum
    and at the maximum margin per position."""
    if sizing == Sizing.RATIO:
        c = ratio * leader_collateral
    elif sizing == Sizing.FIXED:
        c = fixed_usd
    elif leader_baseline > 0.0:
        c = leader_collateral * baseline_usd / leader_baseline
    else:
        c = baseline_usd
    return min(c, max_collateral, max_margin)


@njit(cache=True, error_model="numpy")
def follower_leverage(follow: bool, leader_leverage: float, fixed: float, lo: float, hi: float) -> float:
    """The leader's leverage (or a fixed one), clamped to [lo, hi]."""
    lev = leader_leverage if follow else fixed
    return min(max(lev, lo), hi)


@njit(cache=True, error_model="numpy")
def slippage_fraction(bps: float, impact_bps_per_million: float, notional: float) -> float:
    """Adverse price move of a fill: fixed bps plus a size-dependent impact."""
    return (bps + impact_bps_per_million * notional / 1e6) / 1e4


@njit(cache=True, error_model="numpy")
def fill_price(reference: float, buy: bool, slip: float) -> float:
    """Buys fill above the reference price, sells below it."""
    return reference * (1.0 + slip) if buy else reference * (1.0 - slip)


@njit(cache=True, error_model="numpy")
def position_pnl(side: float, qty: float, size: float, price: float) -> float:
    """PnL of a position of ``size`` USD bought as ``qty`` units, at ``price`` (side +1 long,
    -1 short). Average entry = size / qty: GMX's and gTrade's averaging of increases."""
    return side * (qty * price - size)


def unlimited(value: float | None) -> float:
    """``None`` limits as +inf, for the compiled code."""
    return math.inf if value is None else float(value)
