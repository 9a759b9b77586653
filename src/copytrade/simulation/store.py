"""Simulations as stored records: hashed inputs in ``app.simulations``, ranked outputs in
``app.simulation_plans``, ``app.simulation_bots`` and ``app.simulation_equity``.

DESIGN.md §5: inputs are stored and hashed, and the same inputs give identical outputs. So the
simulation id is derived from the input hash (asking twice names one simulation), and a run
replaces every output row of its id in one transaction (a rerun, or a run after a crash
half-way, leaves exactly one consistent copy). Inputs are checked before anything is written,
with errors that name the field. Bound parameters only; no Dagster here (the orchestration
layer calls :func:`run_simulation`).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from copytrade.simulation.data import UnknownLeader, known_leaders, load_inputs
from copytrade.simulation.events import LeaderEvents, PriceSeries
from copytrade.simulation.results import Metrics, PlanResult, rank, simulate
from copytrade.simulation.settings import CopySettings

ID_PREFIX = "sim_"
METRIC_COLUMNS = ("net_pnl", "follower_pnl", "leader_pnl", "cost", "roi", "max_drawdown_usd",
                  "max_drawdown_pct", "trades")


class InvalidRequest(ValueError):
    """Inputs refused before anything ran; ``problems`` pairs a field path with what is wrong."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))


class EmptyWindow(ValueError):
    """None of the leaders opened a position inside the window: there is nothing to copy."""


class UnknownSimulation(LookupError):
    pass


class SimulationRequest(BaseModel):
    """What a simulation is asked to do. Leaders are normalized (lower case, sorted, unique) and
    times made UTC, so equal requests hash equally whatever their spelling."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    leaders: list[str] = Field(min_length=1, description="trader addresses, one bot each")
    start: datetime = Field(description="window start (inclusive); naive times are UTC")
    end: datetime = Field(description="window end (exclusive)")
    platform: str | None = Field(None, description="only this venue's trades (gmx, gtrade, synthetix)")
    settings: list[CopySettings] = Field(min_length=1, description="one plan variant per settings")
    kind: Literal["manual", "auto"] = "manual"

    @field_validator("leaders")
    @classmethod
    def _leaders(cls, value: list[str]) -> list[str]:
        cleaned = sorted({leader.strip().lower() for leader in value if leader.strip()})
        if not cleaned:
            raise ValueError("at least one leader is needed")
        return cleaned

    @field_validator("start")
    @classmethod
    def _start(cls, value: datetime) -> datetime:
        return _utc(value)

    @field_validator("end")
    @classmethod
    def _end(cls, value: datetime, info: ValidationInfo) -> datetime:
        value = _utc(value)
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError(f"must be after start ({start.isoformat()})")
        return value

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip().lower() or None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_request(**fields: Any) -> SimulationRequest:
    """A validated request, or InvalidRequest naming every bad field (``settings.0.ratio``)."""
    try:
        return SimulationRequest.model_validate(fields)
    except ValidationError as exc:
        raise InvalidRequest([(".".join(str(p) for p in err["loc"]) or "request",
                               err["msg"].removeprefix("Value error, ")) for err in exc.errors()]) from None


def canonical_inputs(request: SimulationRequest) -> dict[str, Any]:
    """Everything that determines the outputs, in a form that serializes one way only."""
    return {
        "kind": request.kind,
        "leaders": request.leaders,
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "platform": request.platform,
        "settings": [s.model_dump(mode="json") for s in request.settings],
    }


def input_hash(request: SimulationRequest) -> str:
    payload = json.dumps(canonical_inputs(request), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def simulation_id(request: SimulationRequest) -> str:
    return ID_PREFIX + input_hash(request)[:16]


def check_inputs(conn: psycopg.Connection, request: SimulationRequest) -> None:
    """Refuse what cannot run, before a row is written: leaders the warehouse has never seen
    (UnknownLeader) and windows in which none of them opened a position (EmptyWindow)."""
    missing = sorted(set(request.leaders) - known_leaders(conn, request.leaders, request.platform))
    if missing:
        on = f" on {request.platform}" if request.platform else ""
        raise UnknownLeader(f"leaders: no trades of {', '.join(missing)}{on} in the warehouse")
    opened = conn.execute(
        "select exists (select 1 from analytics.perp_trading_event_log"
        " where trader = any(%(leaders)s) and (%(platform)s::text is null or platform = %(platform)s)"
        " and action = 'OPEN' and block_time >= %(start)s and block_time < %(end)s)",
        {"leaders": request.leaders, "platform": request.platform, "start": request.start, "end": request.end},
    ).fetchone()[0]
    if not opened:
        raise EmptyWindow(
            f"start/end: no position of {', '.join(request.leaders)} opened in"
            f" [{request.start.isoformat()}, {request.end.isoformat()}): nothing to copy"
        )


def create_simulation(conn: psycopg.Connection, request: SimulationRequest) -> str:
    """Check the inputs and store them as a pending simulation; the id of equal inputs is the
    same, and asking again neither duplicates nor resets the row."""
    check_inputs(conn, request)
    sid = simulation_id(request)
    with conn.transaction():
        conn.execute(
            "insert into app.simulations (simulation_id, kind, platform, window_start, window_end, leaders,"
            " settings, input_hash) values (%s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict (simulation_id) do nothing",
            (sid, request.kind, request.platform, request.start, request.end, request.leaders,
             Jsonb([s.model_dump(mode="json") for s in request.settings]), input_hash(request)),
        )
    return sid


def load_request(conn: psycopg.Connection, sid: str) -> SimulationRequest:
    row = conn.execute(
        "select kind, platform, window_start, window_end, leaders, settings from app.simulations"
        " where simulation_id = %s", (sid,),
    ).fetchone()
    if row is None:
        raise UnknownSimulation(f"simulation_id: no simulation {sid!r}")
    kind, platform, start, end, leaders, settings = row
    return make_request(kind=kind, platform=platform, start=start, end=end, leaders=leaders, settings=settings)


def set_status(conn: psycopg.Connection, sid: str, status: str, progress: float | None = None,
               error: str | None = None) -> None:
    """Record where a run is, in its own transaction so that watchers see it at once
    (``progress`` None keeps the last value: a failure shows how far the run got)."""
    finished = status in ("done", "failed")
    with conn.transaction():
        conn.execute(
            "update app.simulations set status = %s, progress = coalesce(%s::real, progress), error = %s,"
            " finished_at = case when %s then now() end where simulation_id = %s",
            (status, progress, error, finished, sid),
        )


def run_simulation(conn: psycopg.Connection, sid: str) -> list[PlanResult]:
    """Load the stored inputs, replay every variant and store the ranked outputs.

    Any failure marks the simulation ``failed`` with the message, then propagates. Expects an
    autocommit connection (status updates are visible while the run goes on)."""
    set_status(conn, sid, "running", 0.0)
    try:
        request = load_request(conn, sid)  # inside: stored settings that no longer validate fail the run
        check_inputs(conn, request)
        events, prices = load_inputs(conn, request.leaders, request.start, request.end, request.platform)
        set_status(conn, sid, "running", 0.3)
        plans = simulate(events, prices, list(request.settings), end_time=replay_end(request, events, prices))
        set_status(conn, sid, "running", 0.8)
        write_results(conn, sid, plans)
    except Exception as exc:
        _record_failure(conn, sid, exc)
        raise
    return plans


def _record_failure(conn: psycopg.Connection, sid: str, exc: Exception) -> None:
    """Mark the run failed; if even that fails (connection gone), say so on the original error
    rather than replacing it."""
    try:
        set_status(conn, sid, "failed", None, str(exc) or type(exc).__name__)
    except psycopg.Error as db_error:
        exc.add_note(f"(could not record the failure of {sid}: {db_error})")


def replay_end(request: SimulationRequest, events: LeaderEvents, prices: PriceSeries) -> int:
    """The window end, or just after the last observation when the data stops earlier: an open
    window must not stretch the equity curve over hours nothing can have happened in."""
    last = int(max(events.time[-1] if len(events) else 0, prices.time[-1] if len(prices) else 0))
    return min(int(request.end.timestamp()), last + 1) if last else int(request.end.timestamp())


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _metric_values(metrics: Metrics) -> tuple[Jsonb, ...]:
    values = {k: _finite(v) for k, v in metrics.as_dict().items()}
    return (Jsonb(values), *(values[c] for c in METRIC_COLUMNS))


def _utc_time(unix: int) -> datetime:
    return datetime.fromtimestamp(int(unix), UTC)


PLAN_INSERT = (
    "insert into app.simulation_plans (simulation_id, variant, settings, metrics, "
    + ", ".join(METRIC_COLUMNS) + ", rank) values (" + ", ".join(["%s"] * (len(METRIC_COLUMNS) + 5)) + ")"
)
BOT_COPY = ("copy app.simulation_bots (simulation_id, variant, leader, metrics, " + ", ".join(METRIC_COLUMNS)
            + ") from stdin")
EQUITY_COPY = "copy app.simulation_equity (simulation_id, variant, leader, time, equity) from stdin"


def write_results(conn: psycopg.Connection, sid: str, plans: list[PlanResult]) -> None:
    """Replace every output row of ``sid`` and mark it done, all in one transaction."""
    ranks = {id(plan): i + 1 for i, plan in enumerate(rank(plans, "net_pnl"))}
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("select 1 from app.simulations where simulation_id = %s for update", (sid,))
        for table in ("simulation_equity", "simulation_bots", "simulation_plans"):
            cur.execute(f"delete from app.{table} where simulation_id = %s", (sid,))
        cur.executemany(PLAN_INSERT, [
            (sid, v, Jsonb(p.settings.model_dump(mode="json")), *_metric_values(p.metrics), ranks[id(p)])
            for v, p in enumerate(plans)
        ])
        with cur.copy(BOT_COPY) as copy:
            for v, plan in enumerate(plans):
                for bot in plan.bots:
                    copy.write_row((sid, v, bot.leader, *_metric_values(bot.metrics)))
        with cur.copy(EQUITY_COPY) as copy:
            for v, plan in enumerate(plans):
                for leader, curve in [("", plan.equity_curve), *((b.leader, b.equity_curve) for b in plan.bots)]:
                    for t, equity in curve:
                        copy.write_row((sid, v, leader, _utc_time(t), equity))
        cur.execute(
            "update app.simulations set status = 'done', progress = 1, error = null, finished_at = now()"
            " where simulation_id = %s", (sid,),
        )


def fetch_simulation(conn: psycopg.Connection, sid: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("select * from app.simulations where simulation_id = %s", (sid,)).fetchone()


def fetch_plans(conn: psycopg.Connection, sid: str) -> list[dict[str, Any]]:
    """The stored plan variants, best first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("select * from app.simulation_plans where simulation_id = %s order by rank, variant",
                           (sid,)).fetchall()


def fetch_bots(conn: psycopg.Connection, sid: str, variant: int) -> list[dict[str, Any]]:
    """One variant's bots, best first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("select * from app.simulation_bots where simulation_id = %s and variant = %s"
                           " order by net_pnl desc, leader", (sid, variant)).fetchall()


def fetch_equity(conn: psycopg.Connection, sid: str, variant: int, leader: str = "") -> list[tuple[datetime, float]]:
    """A stored equity curve, time-ordered (leader '' is the plan's)."""
    return conn.execute("select time, equity from app.simulation_equity where simulation_id = %s"
                        " and variant = %s and leader = %s order by time", (sid, variant, leader)).fetchall()
