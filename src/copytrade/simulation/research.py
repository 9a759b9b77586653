"""Research on top of the simulator: settings grids and walk-forward auto selection.

A grid expands min/max/step ranges of numeric settings into every combination and ranks
them (one replay pass for all of them, see :func:`copytrade.simulation.results.simulate`).
A walk-forward runs consecutive windows [t, t + step) whose leaders are chosen from data
before t only, which is how an auto-selected plan would have fared had it been rebuilt at
each step: an honest out-of-sample check of the selection criteria (DESIGN.md §5).
"""

from __future__ import annotations

import itertools
import math
import types
import typing
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

import psycopg
from pydantic import ValidationError

from copytrade.simulation.data import load_inputs
from copytrade.simulation.events import LeaderEvents, PriceSeries
from copytrade.simulation.results import Metrics, PlanResult, rank, simulate
from copytrade.simulation.selection import SelectionCriteria, auto_plan, standard_collateral, utc
from copytrade.simulation.settings import CopySettings, settings_error

# A replay holds every variant's state in memory at once; beyond this, split the research.
MAX_VARIANTS = 10_000

Range = tuple[float, float, float]  # (min, max, step), both ends inclusive


class GridError(ValueError):
    """A grid that cannot be expanded: unknown or non-numeric field, bad range, too big."""


def _numeric_type(name: str) -> type:
    """int or float for a numeric CopySettings field (optional or not), else GridError."""
    info = CopySettings.model_fields.get(name)
    if info is None:
        raise GridError(f"{name}: no such setting")
    annotation = info.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next((a for a in typing.get_args(annotation) if a is not type(None)), None)
    if annotation not in (int, float):
        raise GridError(f"{name}: not a numeric setting, it cannot be a grid range")
    return annotation


def range_values(name: str, bounds: Range) -> list[float] | list[int]:
    """min, min + step, ... up to max (inclusive, within float rounding)."""
    try:
        low, high, step = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise GridError(f"{name}: a range is (min, max, step), got {bounds!r}") from None
    if not all(math.isfinite(b) for b in (low, high, step)):
        raise GridError(f"{name}: min, max and step must be finite")
    if step <= 0:
        raise GridError(f"{name}: step must be positive")
    if low > high:
        raise GridError(f"{name}: min must not exceed max")
    count = math.floor((high - low) / step + 1e-9) + 1
    if count > MAX_VARIANTS:
        raise GridError(f"{name}: {count} values, more than the {MAX_VARIANTS} variants allowed")
    values = [float(f"{low + i * step:.12g}") for i in range(count)]
    if _numeric_type(name) is int:
        if any(v != int(v) for v in values):
            raise GridError(f"{name}: an integer setting needs integer min, max and step")
        return [int(v) for v in values]
    return values


def expand_grid(base: CopySettings, ranges: dict[str, Range]) -> list[CopySettings]:
    """Every combination of the ranges over ``base`` (the first range varies slowest).

    Each variant is validated like any settings; an invalid one (say min_leverage above
    max_leverage) fails the grid with the variant named, rather than being silently dropped."""
    axes = {name: range_values(name, bounds) for name, bounds in ranges.items()}
    total = math.prod(len(v) for v in axes.values())
    if total > MAX_VARIANTS:
        sizes = " x ".join(f"{len(v)} {n}" for n, v in axes.items())
        raise GridError(f"grid: {sizes} = {total} variants, more than the {MAX_VARIANTS} allowed")
    start = base.model_dump()
    variants = []
    for combo in itertools.product(*axes.values()):
        update = dict(zip(axes, combo))
        try:
            variants.append(CopySettings.model_validate({**start, **update}))
        except ValidationError as exc:
            raise GridError(f"grid variant {update}: {settings_error(exc)}") from None
    return variants


METRIC_NAMES = tuple(f.name for f in fields(Metrics))


def grid_research(events: LeaderEvents, prices: PriceSeries, base: CopySettings, ranges: dict[str, Range],
                  by: str = "net_pnl", end_time: int | None = None) -> list[PlanResult]:
    """Simulate every variant of the grid in one pass; best first by the metric ``by``."""
    if by not in METRIC_NAMES:
        raise GridError(f"by: no metric {by!r} (one of {', '.join(METRIC_NAMES)})")
    return rank(simulate(events, prices, expand_grid(base, ranges), end_time=end_time), by=by)


@dataclass
class WindowResult:
    """One walk-forward step: its leaders (chosen before ``start``) and how copying them went.

    ``skipped`` says why a window has no result (no leader met the criteria, or the leaders
    opened nothing in the window); then ``plans`` is empty."""

    start: datetime
    end: datetime
    leaders: list[str]
    plans: list[PlanResult] = field(default_factory=list)
    skipped: str | None = None

    @property
    def metrics(self) -> Metrics | None:
        """The first settings variant's plan metrics (None when skipped)."""
        return self.plans[0].metrics if self.plans else None


def windows(start: datetime, end: datetime, step_days: float) -> list[tuple[datetime, datetime]]:
    """Consecutive [t, t + step) from start; the last one is cut at end."""
    start, end = utc(start), utc(end)
    if step_days <= 0:
        raise ValueError("step_days must be positive")
    if end <= start:
        raise ValueError("window: end must be after start")
    step = timedelta(days=step_days)
    out, t = [], start
    while t < end:
        out.append((t, min(t + step, end)))
        t += step
    return out


def run_window(conn: psycopg.Connection, platform: str, start: datetime, end: datetime,
               criteria: SelectionCriteria, settings: list[CopySettings]) -> WindowResult:
    """Select before ``start`` (auto_plan: standard collateral), then replay [start, end)."""
    leaders, _ = auto_plan(conn, platform, start, end, criteria, settings[0])
    if not leaders:
        return WindowResult(start, end, [], skipped=(
            f"no {platform} trader met the criteria in the {criteria.lookback_days:g} days before {start.isoformat()}"))
    events, prices = load_inputs(conn, leaders, start, end, platform)
    if len(events) == 0:
        return WindowResult(start, end, leaders, skipped="the selected leaders opened no position in the window")
    plans = simulate(events, prices, [standard_collateral(s) for s in settings], end_time=int(end.timestamp()))
    return WindowResult(start, end, leaders, plans)


def walk_forward(conn: psycopg.Connection, platform: str, start: datetime, end: datetime, step_days: float,
                 criteria: SelectionCriteria, settings: CopySettings | list[CopySettings]) -> list[WindowResult]:
    """Each window [t, t + step_days) copies the leaders selected with data before t.

    Every settings variant is replayed per window with standard collateral (as auto_plan
    builds them). Windows without selectable leaders or without events are reported as
    skipped, with the reason, so one quiet period does not end the study."""
    variants = [settings] if isinstance(settings, CopySettings) else list(settings)
    if not variants:
        raise ValueError("settings: at least one variant is needed")
    return [run_window(conn, platform, t, t_end, criteria, variants) for t, t_end in windows(start, end, step_days)]
