"""Copy-trading simulations as a Dagster asset: one dynamic partition per stored simulation.

A simulation is created in ``app.simulations`` (its id derived from the input hash, see
:mod:`copytrade.simulation.store`) and its id added as a partition of ``simulations``; the
``simulation_results`` asset then runs it. The asset is a thin wrapper: the replay, the
ranking and the writes are the library's, so tests and the CLI call the same code.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import psycopg
from dagster import (
    AssetExecutionContext,
    AssetKey,
    DagsterInstance,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    materialize,
)

from copytrade.simulation.results import PlanResult, rank
from copytrade.simulation.store import SimulationRequest, create_simulation, run_simulation
from orchestration.resources import PostgresResource, default_resources

simulations_partitions = DynamicPartitionsDefinition(name="simulations")

SPARK = "▁▂▃▄▅▆▇█"
EVENT_LOG = AssetKey(["analytics", "perp_trading_event_log"])


@asset(
    partitions_def=simulations_partitions,
    deps=[EVENT_LOG],
    group_name="simulation",
    kinds={"postgres"},
    description=(
        "Copy-trading simulation of the partition's stored inputs (app.simulations): per plan"
        " variant, per bot and as equity curves in app.simulation_plans / simulation_bots /"
        " simulation_equity, variants ranked by net PnL."
    ),
)
def simulation_results(context: AssetExecutionContext, postgres: PostgresResource) -> MaterializeResult:
    with postgres.connect() as conn:
        plans = run_simulation(conn, context.partition_key)
    return MaterializeResult(metadata=plan_metadata(plans))


def plan_metadata(plans: list[PlanResult]) -> dict[str, object]:
    """The best variant's headline figures and its equity curve, for the asset's page."""
    best = rank(plans, "net_pnl")[0]
    m = best.metrics
    return {
        "net_pnl": round(m.net_pnl, 2),
        "follower_pnl": round(m.follower_pnl, 2),
        "leader_pnl": round(m.leader_pnl, 2),
        "cost": round(m.cost, 2),
        "max_drawdown_usd": round(m.max_drawdown_usd, 2),
        "trades": m.trades,
        "variants": len(plans),
        "best_variant": plans.index(best),
        "leaders": MetadataValue.json([b.leader for b in best.bots]),
        "equity_curve": MetadataValue.md(equity_markdown(best.equity_curve)),
    }


def sample(curve: Sequence[tuple[int, float]], points: int) -> list[tuple[int, float]]:
    """At most ``points`` evenly spaced points of a curve, its first and last kept."""
    if len(curve) <= points:
        return list(curve)
    step = (len(curve) - 1) / (points - 1)
    return [curve[round(i * step)] for i in range(points)]


def sparkline(values: Sequence[float]) -> str:
    lo, hi = min(values, default=0.0), max(values, default=0.0)
    span = hi - lo
    return "".join(SPARK[int((v - lo) / span * (len(SPARK) - 1)) if span else 0] for v in values)


def equity_markdown(curve: Sequence[tuple[int, float]], points: int = 20) -> str:
    """A unicode sparkline of the whole curve and a table of ~``points`` of its values."""
    if not curve:
        return "_no equity curve_"
    rows = [f"| {datetime.fromtimestamp(t, UTC):%Y-%m-%d %H:%M} | {equity:,.2f} |" for t, equity in sample(curve, points)]
    return "\n".join([
        f"`{sparkline([e for _, e in sample(curve, 60)])}`",
        "",
        "| time (UTC) | equity (USD) |",
        "|---|---:|",
        *rows,
    ])


def request_simulation(instance: DagsterInstance, conn: psycopg.Connection, request: SimulationRequest) -> str:
    """Store the request (checked first) and register its partition; returns the simulation id."""
    sid = create_simulation(conn, request)
    if not instance.has_dynamic_partition(simulations_partitions.name, sid):
        instance.add_dynamic_partitions(simulations_partitions.name, [sid])
    return sid


def materialize_simulation(sid: str, instance: DagsterInstance | None = None):
    """Run one simulation's partition in-process against the instance (the CLI's path), so the
    run and its metadata show in the UI. Returns the ExecuteInProcessResult (not raised)."""
    return materialize(
        [simulation_results], partition_key=sid, instance=instance or DagsterInstance.get(),
        resources=default_resources(), raise_on_error=False, tags={"copytrade/source": "cli-simulate"},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )


def failure_message(result) -> str:
    """The first step failure's message of an in-process run."""
    failure = next((e for e in result.all_events if e.is_step_failure), None)
    return failure.event_specific_data.error.message.strip() if failure else "run failed"
