"""The replay's inputs, columnar: the leaders' actions and the market price observations.

Built from `analytics.perp_trading_event_log` (see :mod:`copytrade.simulation.data`) or by
hand in tests. Arrays, not rows: the engine walks them in a compiled loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OPEN, INCREASE, DECREASE, CLOSE, LIQUIDATE = range(5)
ACTIONS = {"OPEN": OPEN, "INCREASE": INCREASE, "DECREASE": DECREASE, "CLOSE": CLOSE, "LIQUIDATE": LIQUIDATE}


@dataclass
class LeaderEvents:
    """The leaders' size-changing actions inside the window, time-ordered.

    Only positions the leader OPENED inside the window are here (a position opened before
    the window cannot be copied from its start). ``position`` numbers position lifecycles
    0..P-1; ``leader`` indexes ``leaders`` (one bot per leader); ``market`` indexes
    ``markets``; ``platform`` indexes ``platforms``. Amounts are USD, sizes positive.
    """

    time: np.ndarray  # int64 unix seconds
    leader: np.ndarray  # int32
    position: np.ndarray  # int32
    market: np.ndarray  # int32
    platform: np.ndarray  # int32
    is_long: np.ndarray  # bool
    action: np.ndarray  # int8, OPEN..LIQUIDATE
    size_delta: np.ndarray  # float64
    size_after: np.ndarray  # float64
    collateral_after: np.ndarray  # float64
    price: np.ndarray  # float64
    fee: np.ndarray  # float64, the leader's
    funding: np.ndarray  # float64, the leader's (positive = paid)
    realized_pnl: np.ndarray  # float64, the leader's, after fees and funding
    leaders: list[str] = field(default_factory=list)
    markets: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    # per leader: its average OPEN collateral before the window (sizing=baseline)
    leader_baseline: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.time)

    @property
    def positions(self) -> int:
        return int(self.position.max()) + 1 if len(self.position) else 0

    @classmethod
    def from_rows(cls, rows: list[dict], leaders: list[str] | None = None,
                  leader_baseline: dict[str, float] | None = None) -> LeaderEvents:
        """Rows with keys time, leader, position_uid, market, platform, is_long, action (name),
        size_delta, size_after, collateral_after, price, fee, funding, realized_pnl; sorted
        here by (time, given order). Positions whose first row is not an OPEN are dropped."""
        rows = sorted(enumerate(rows), key=lambda ir: (ir[1]["time"], ir[0]))
        opened: dict[object, int] = {}
        keep = []
        for _, r in rows:
            uid = (r["leader"], r["position_uid"])
            if uid not in opened:
                if r["action"] != "OPEN":
                    opened[uid] = -1
                    continue
                opened[uid] = sum(1 for v in opened.values() if v >= 0)
            if opened[uid] >= 0 and r["action"] in ACTIONS:
                keep.append(r)
        leaders = list(leaders) if leaders is not None else sorted({r["leader"] for r in keep})
        markets = sorted({r["market"] for r in keep})
        platforms = sorted({r["platform"] for r in keep})
        li, mi, pi = ({v: i for i, v in enumerate(x)} for x in (leaders, markets, platforms))

        def col(name, dtype, fn=lambda v: v):
            return np.array([fn(r[name]) for r in keep], dtype=dtype)

        baseline = leader_baseline or {}
        return cls(
            time=col("time", np.int64),
            leader=np.array([li[r["leader"]] for r in keep], dtype=np.int32),
            position=np.array([opened[(r["leader"], r["position_uid"])] for r in keep], dtype=np.int32),
            market=np.array([mi[r["market"]] for r in keep], dtype=np.int32),
            platform=np.array([pi[r["platform"]] for r in keep], dtype=np.int32),
            is_long=col("is_long", np.bool_),
            action=np.array([ACTIONS[r["action"]] for r in keep], dtype=np.int8),
            size_delta=col("size_delta", np.float64, float),
            size_after=col("size_after", np.float64, float),
            collateral_after=col("collateral_after", np.float64, float),
            price=col("price", np.float64, float),
            fee=col("fee", np.float64, float),
            funding=col("funding", np.float64, float),
            realized_pnl=col("realized_pnl", np.float64, float),
            leaders=leaders,
            markets=markets,
            platforms=platforms,
            leader_baseline=np.array([float(baseline.get(name, 0.0)) for name in leaders], dtype=np.float64),
        )


@dataclass
class PriceSeries:
    """Observed trade prices per market (every trader's, not only the leaders'), time-ordered.

    They are the marks: mark-to-market equity, stop-loss / take-profit / liquidation triggers
    and the fills of delayed copies. ``market`` indexes the same ``markets`` as the events."""

    time: np.ndarray  # int64
    market: np.ndarray  # int32
    price: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def from_events(cls, events: LeaderEvents) -> PriceSeries:
        """The leaders' own trade prices as the only observations."""
        return cls(events.time.copy(), events.market.copy(), events.price.copy())

    @classmethod
    def from_rows(cls, rows: list[tuple[int, str, float]], markets: list[str]) -> PriceSeries:
        """(time, market, price) rows; markets not in ``markets`` are dropped."""
        index = {m: i for i, m in enumerate(markets)}
        kept = sorted(((t, index[m], p) for t, m, p in rows if m in index), key=lambda r: r[0])
        return cls(
            np.array([r[0] for r in kept], dtype=np.int64),
            np.array([r[1] for r in kept], dtype=np.int32),
            np.array([r[2] for r in kept], dtype=np.float64),
        )
