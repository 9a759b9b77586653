"""Per-bot and per-plan metrics from a replay, and the one-call ``simulate``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from copytrade.simulation.engine import Replay, S, Variants, replay
from copytrade.simulation.events import LeaderEvents, PriceSeries
from copytrade.simulation.settings import CopySettings


@dataclass
class Metrics:
    """What a follower made, what it cost and how rough the ride was (USD unless noted)."""

    follower_pnl: float  # at reference prices, realized + unrealized at the window end
    leader_pnl: float  # the leader's, on the positions the follower copied
    fees: float
    funding: float
    slippage: float
    cost: float  # fees + funding + slippage
    net_pnl: float  # follower_pnl - cost = final equity - capital
    capital: float
    roi: float  # net_pnl / capital
    max_drawdown_usd: float
    max_drawdown_pct: float  # of the peak equity, 0..1
    trades: int  # fills: opens, increases, decreases, closes, exits
    positions: int  # positions copied
    wins: int
    losses: int
    win_rate: float | None
    profit_factor: float | None
    liquidations: int
    stop_losses: int
    take_profits: int
    open_positions: int  # still open at the window end

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class BotResult:
    leader: str
    metrics: Metrics
    equity_curve: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class PlanResult:
    settings: CopySettings
    metrics: Metrics
    bots: list[BotResult]
    equity_curve: list[tuple[int, float]] = field(default_factory=list)


def _metrics(values: dict[str, float], capital: float, dd_usd: float, dd_pct: float) -> Metrics:
    cost = values["fees"] + values["funding"] + values["slippage"]
    net = values["gross_pnl"] - cost
    decided = values["wins"] + values["losses"]
    return Metrics(
        follower_pnl=values["gross_pnl"],
        leader_pnl=values["leader_pnl"],
        fees=values["fees"],
        funding=values["funding"],
        slippage=values["slippage"],
        cost=cost,
        net_pnl=net,
        capital=capital,
        roi=net / capital,
        max_drawdown_usd=dd_usd,
        max_drawdown_pct=dd_pct,
        trades=int(values["trades"]),
        positions=int(values["positions"]),
        wins=int(values["wins"]),
        losses=int(values["losses"]),
        win_rate=values["wins"] / decided if decided else None,
        profit_factor=values["win_usd"] / values["loss_usd"] if values["loss_usd"] > 0 else None,
        liquidations=int(values["liquidations"]),
        stop_losses=int(values["stops"]),
        take_profits=int(values["takes"]),
        open_positions=int(values["open_positions"]),
    )


BOT_CURVES_UP_TO = 4096

SUMMED = ("gross_pnl", "leader_pnl", "fees", "funding", "slippage", "trades", "positions", "wins", "losses",
          "win_usd", "loss_usd", "liquidations", "stops", "takes", "open_positions")


def summarize(result: Replay, events: LeaderEvents, variants: Variants) -> list[PlanResult]:
    """One PlanResult per variant, with a BotResult per leader."""
    plans = []
    times = result.curve_time.tolist()
    for v, settings in enumerate(variants.settings):
        capital = settings.initial_capital_usd
        bots = []
        for b, leader in enumerate(events.leaders):
            values = {name: float(result.stats[b, v, S[name]]) for name in S}
            curve = list(zip(times, result.bot_curve[:, b, v].tolist())) if result.bot_curve.shape[0] else []
            bots.append(BotResult(leader, _metrics(values, capital, values["max_drawdown_usd"],
                                                   values["max_drawdown_pct"]), curve))
        totals = {name: float(result.stats[:, v, S[name]].sum()) for name in SUMMED}
        plan_curve = list(zip(times, result.plan_curve[:, v].tolist()))
        plans.append(PlanResult(
            settings,
            _metrics(totals, capital * len(events.leaders), float(result.plan_stats[v, 1]),
                     float(result.plan_stats[v, 2])),
            bots,
            plan_curve,
        ))
    return plans


def simulate(events: LeaderEvents, prices: PriceSeries, settings: list[CopySettings] | CopySettings,
             end_time: int | None = None, curve_interval: int = 3600) -> list[PlanResult]:
    """Replay every settings variant (one pass) and summarize. Equity curves are kept per
    plan always, and per bot while variants x bots <= BOT_CURVES_UP_TO (each point of a bot
    curve costs a pass over its markets for every variant)."""
    settings = [settings] if isinstance(settings, CopySettings) else list(settings)
    variants = Variants.build(settings, events.platforms, events.markets)
    result = replay(events, prices, variants, end_time=end_time, curve_interval=curve_interval,
                    bot_curves=len(settings) * max(1, len(events.leaders)) <= BOT_CURVES_UP_TO)
    return summarize(result, events, variants)


def rank(plans: list[PlanResult], by: str = "net_pnl") -> list[PlanResult]:
    """Plans best first by a metric (drawdowns: smallest first)."""
    smallest_first = by.startswith("max_drawdown")
    return sorted(plans, key=lambda p: (getattr(p.metrics, by) is None,
                                        getattr(p.metrics, by) * (1 if smallest_first else -1)
                                        if getattr(p.metrics, by) is not None else 0.0))

