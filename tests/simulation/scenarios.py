"""Random leader histories and settings for the property tests (hypothesis strategies)."""

from __future__ import annotations

from hypothesis import strategies as st

from copytrade.simulation.events import LeaderEvents, PriceSeries
from copytrade.simulation.settings import CopySettings

MARKETS = ["BTC/USD", "ETH/USD", "SOL/USD"]
PLATFORMS = ["gmx", "gtrade", "synthetix"]


@st.composite
def histories(draw) -> tuple[LeaderEvents, PriceSeries]:
    """Leaders opening, increasing, decreasing, closing and getting liquidated, with prices
    moving between their trades and other traders' observations in between."""
    n_leaders = draw(st.integers(1, 3))
    price = {m: draw(st.floats(10, 50_000)) for m in MARKETS}
    rows, observations = [], []
    t = 1_000
    uid = 0
    open_positions: list[dict] = []
    for _ in range(draw(st.integers(1, 40))):
        t += draw(st.integers(0, 600))
        m = draw(st.sampled_from(MARKETS))
        price[m] *= draw(st.floats(0.9, 1.1))
        if draw(st.booleans()):
            observations.append((t, m, price[m]))
        choice = draw(st.integers(0, 3))
        if choice == 0 or not open_positions:
            uid += 1
            size = draw(st.floats(100, 100_000))
            lev = draw(st.floats(1.1, 60))
            pos = {"uid": uid, "leader": f"L{draw(st.integers(0, n_leaders - 1))}", "market": m,
                   "platform": draw(st.sampled_from(PLATFORMS)), "long": draw(st.booleans()), "size": size,
                   "coll": size / lev}
            open_positions.append(pos)
            action, delta = "OPEN", size
        else:
            pos = draw(st.sampled_from(open_positions))
            kind = draw(st.sampled_from(["INCREASE", "DECREASE", "CLOSE", "LIQUIDATE"]))
            if kind == "INCREASE":
                delta = draw(st.floats(10, 50_000))
                # some venues (gTrade) take the fee out of the position: size after < before + order
                pos["size"] += delta * draw(st.sampled_from([1.0, 1.0, 0.98]))
                pos["coll"] += delta / draw(st.floats(1.1, 30))
            elif kind == "DECREASE":
                delta = pos["size"] * draw(st.floats(0.05, 0.95))
                pos["size"] -= delta
                pos["coll"] *= pos["size"] / (pos["size"] + delta)
            else:
                delta = pos["size"]
                pos["size"] = 0.0
                pos["coll"] = 0.0
                open_positions.remove(pos)
            action = kind
        rows.append({"time": t, "leader": pos["leader"], "position_uid": pos["uid"], "market": pos["market"],
                         "platform": pos["platform"], "is_long": pos["long"], "action": action, "size_delta": delta,
                         "size_after": pos["size"], "collateral_after": pos["coll"], "price": price[pos["market"]],
                         "fee": delta * 0.001, "funding": draw(st.floats(-5, 5)) if action != "OPEN" else 0.0,
                         "realized_pnl": draw(st.floats(-1000, 1000))})
        observations.append((t, pos["market"], price[pos["market"]]))
    for _ in range(draw(st.integers(0, 10))):
        m = draw(st.sampled_from(MARKETS))
        observations.append((t + draw(st.integers(0, 3600)), m, price[m] * draw(st.floats(0.8, 1.2))))
    events = LeaderEvents.from_rows(rows, leader_baseline={"L0": 500.0, "L1": 2_000.0})
    return events, PriceSeries.from_rows(observations, events.markets)


@st.composite
def settings(draw) -> CopySettings:
    lo = draw(st.floats(1, 10))
    hi = draw(st.floats(lo, 100))
    max_coll = draw(st.none() | st.floats(50, 5_000))
    return CopySettings(
        mode=draw(st.sampled_from(["default", "reverse"])),
        sizing=draw(st.sampled_from(["ratio", "fixed", "baseline"])),
        ratio=draw(st.floats(0.01, 3)),
        fixed_collateral_usd=draw(st.floats(10, 2_000)),
        baseline_collateral_usd=draw(st.floats(10, 2_000)),
        leverage=draw(st.sampled_from(["follow", "fixed"])),
        fixed_leverage=draw(st.floats(lo, hi)),
        min_leverage=lo,
        max_leverage=hi,
        min_collateral_usd=draw(st.sampled_from([0.0, 20.0, 200.0])) if max_coll is None or max_coll >= 200 else 0.0,
        max_collateral_usd=max_coll,
        max_margin_per_position_usd=draw(st.none() | st.floats(50, 10_000)),
        max_open_positions=draw(st.none() | st.integers(1, 4)),
        initial_capital_usd=draw(st.floats(100, 50_000)),
        side=draw(st.sampled_from(["both", "long", "short"])),
        stop_loss_pct=draw(st.none() | st.floats(1, 90)),
        stop_loss_usd=draw(st.none() | st.floats(1, 500)),
        take_profit_pct=draw(st.none() | st.floats(1, 300)),
        take_profit_usd=draw(st.none() | st.floats(1, 2_000)),
        copy_delay_seconds=draw(st.sampled_from([0, 0, 30, 600])),
        slippage_bps=draw(st.floats(0, 50)),
        impact_bps_per_million=draw(st.floats(0, 100)),
        fee_bps={p: draw(st.floats(0, 20)) for p in PLATFORMS},
        funding=draw(st.booleans()),
        pairs_deny=draw(st.sampled_from([[], ["SOL/USD"]])),
    )
