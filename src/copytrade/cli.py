"""The ``copytrade`` command.

This module is the composition root: it wires the domain library to the outside world.
Commands that drive Dagster start it as a subprocess of this virtualenv, so importing the
CLI never imports Dagster.
"""

from __future__ import annotations

import os
import subprocess
import sys

import typer
from rich.console import Console

from copytrade.config import find_project_root
from copytrade.services.dagster_home import venv_bin
from copytrade.services.process import ServiceError
from copytrade.services.stack import Stack

app = typer.Typer(help="copytrade: copy-trading research for on-chain perp venues.", no_args_is_help=True)
services_app = typer.Typer(help="Project-local PostgreSQL, Redis and the Dagster instance.", no_args_is_help=True)
app.add_typer(services_app, name="services")
logs_app = typer.Typer(help="Inspect raw logs.", no_args_is_help=True)
app.add_typer(logs_app, name="logs")
devchain_app = typer.Typer(help="The local chain: anvil with venue emulators and a seeded market scenario.", no_args_is_help=True)
app.add_typer(devchain_app, name="devchain")

console = Console()
err_console = Console(stderr=True)


def _fail(exc: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=1)


def _print_status(stack: Stack) -> None:
    """One unwrapped line per service, so URLs and paths stay copyable."""
    console.print("[bold]copytrade services[/]")
    for service, state, where, detail in stack.status():
        console.print(f"  {service:<16} {state:<12} {where}", soft_wrap=True)
        if detail:
            console.print(f"  {'':<16} {'':<12} {detail}", soft_wrap=True)


@services_app.command("up")
def services_up(
    skip_dagster: bool = typer.Option(False, "--skip-dagster", help="Do not migrate Dagster's storage."),
) -> None:
    """Start PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL point elsewhere) and migrate."""
    stack = Stack.from_env()
    try:
        for message in stack.up(dagster=not skip_dagster):
            console.print(f"- {message}")
    except ServiceError as exc:
        _fail(exc)
    _print_status(stack)


@services_app.command("down")
def services_down() -> None:
    """Stop the project-local servers this project started (external ones are left alone)."""
    stack = Stack.from_env()
    try:
        for message in stack.down():
            console.print(f"- {message}")
    except ServiceError as exc:
        _fail(exc)


@services_app.command("status")
def services_status() -> None:
    """Say what runs where."""
    _print_status(Stack.from_env())


def _devchain(port: int | None):
    from copytrade.config import Settings
    from copytrade.devchain.chain import DevChain

    settings = Settings()
    return DevChain(settings.resolved_home, port or settings.anvil_port)


@devchain_app.command("up")
def devchain_up(
    port: int = typer.Option(None, help="anvil port on 127.0.0.1 (default COPYTRADE_ANVIL_PORT or 58545)."),
    keep_history: bool = typer.Option(
        False, "--keep-history", help="Keep historical states (enables anvil_reorg; slow for long chains)."
    ),
) -> None:
    """Start anvil, deploy the venue emulators and write the dev-chain registry rows."""
    from copytrade.devchain.chain import DevChainError

    chain = _devchain(port)
    try:
        info, started = chain.up(keep_history=keep_history)
    except (ServiceError, DevChainError) as exc:
        _fail(exc)
    verb = "started" if started else "already running"
    console.print(f"- anvil {verb} at {info.url} (pid {info.pid}, chain id 31337)")
    for row in chain.registry_rows():
        console.print(f"  {row.contract_id:<40} {row.address}  from block {row.from_block}", soft_wrap=True)
    console.print(f"- registry rows in {chain.registry_file}")


@devchain_app.command("down")
def devchain_down(port: int = typer.Option(None, help="anvil port.")) -> None:
    """Stop anvil (the chain lives in memory: its state is gone; the ground truth stays)."""
    pid = _devchain(port).down()
    console.print(f"- anvil stopped (pid {pid})" if pid else "- anvil was not running")


@devchain_app.command("seed")
def devchain_seed(
    traders: int = typer.Option(200, help="Number of traders."),
    days: int = typer.Option(30, help="Days of trading."),
    seed: int = typer.Option(1, help="Random seed: the same seed gives the same chain."),
    window: int = typer.Option(300, help="Seconds of trading batched into one block."),
    port: int = typer.Option(None, help="anvil port."),
) -> None:
    """Generate a deterministic market scenario, emit it on chain and write its ground truth."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from copytrade.devchain.chain import DevChainError, ScenarioParams

    chain = _devchain(port)
    params = ScenarioParams(traders=traders, days=days, seed=seed, window=window)
    with Progress(
        TextColumn("[bold]seeding[/] day"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[logs]:,} logs"), TimeElapsedColumn(), console=console,
    ) as bar:
        task = bar.add_task("seed", total=days, logs=0)
        try:
            manifest = chain.seed(params, lambda d, n, logs: bar.update(task, completed=d, logs=logs))
        except DevChainError as exc:
            _fail(exc)
    emitted = manifest["emitted"]
    counts = manifest["counts"]
    console.print(
        f"- {counts['actions']:,} actions, {counts['positions']:,} positions"
        f" ({counts.get('LIQUIDATED', 0):,} liquidated), {emitted['logs']:,} logs in"
        f" {emitted['transactions']:,} transactions over {emitted['blocks']:,} blocks;"
        f" head {manifest['chain']['head']:,}"
    )
    console.print(
        f"- {manifest['elapsed_seconds']} s, {manifest['logs_per_second']:,} logs/s;"
        f" ground truth in {chain.ground_truth_dir}"
    )


@logs_app.command("decode")
def logs_decode(
    file: typer.FileText = typer.Argument(..., help="JSON lines of raw JSON-RPC log objects ('-' for stdin)."),
    chain_id: int = typer.Option(None, help="Chain of logs that carry no chain_id."),
) -> None:
    """Decode raw logs with the registry's ABIs: one JSON line out per line in (or an error)."""
    import orjson

    from copytrade.config import Settings
    from copytrade.venues.jsonl import decode_jsonl
    from copytrade.venues.registry import load_registry

    registry = load_registry(Settings().resolved_home)
    out = sys.stdout.buffer
    for item in decode_jsonl(file, registry, chain_id):
        out.write(orjson.dumps(item) + b"\n")
    out.flush()


@app.command("backfill")
def backfill(
    contract: str = typer.Option(None, "--contract", help="One contract_id of the registry (default: all with an RPC endpoint)."),
    from_block: int = typer.Option(None, "--from-block", help="First block (its whole partition is materialized)."),
    to_block: int = typer.Option(None, "--to-block", help="Last block (default: the safe head)."),
    run_dbt: bool = typer.Option(True, "--dbt/--no-dbt", help="Run dbt build after the partitions."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="dbt: rebuild the incremental models from scratch."),
) -> None:
    """Materialize raw-log partitions (contract x block range) in-process, like the Dagster UI,
    then the dbt models."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    stack = Stack.from_env()
    os.environ.update(stack.endpoints.environ())
    from orchestration import backfill as bf
    from copytrade.venues.registry import load_registry

    skipped: list[str] = []
    try:
        planned = bf.plan(load_registry(stack.endpoints.home), contract, from_block, to_block, skipped)
    except Exception as exc:  # noqa: BLE001 - a clear message, not a traceback
        _fail(exc)
    for reason in skipped:
        console.print(f"[yellow]skipped:[/] {reason}")
    if not planned:
        _fail(RuntimeError("nothing to backfill: no registry contract with a reachable RPC endpoint in that range"))
    with Progress(
        TextColumn("[bold]backfill[/]"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[logs]:,} logs"), TimeElapsedColumn(), console=console,
    ) as bar:
        task = bar.add_task("backfill", total=len(planned), logs=0)
        totals = {"logs": 0}

        def advance(part, meta):
            totals["logs"] += meta["logs"]
            bar.update(task, advance=1, logs=totals["logs"])

        report = bf.run(planned, on_partition=advance)
    console.print(
        f"- {report.partitions} partitions, {report.logs:,} logs ({report.decoded:,} decoded,"
        f" {report.quarantined:,} quarantined), {report.get_logs_calls:,} eth_getLogs calls"
    )
    if report.failures:
        for failure in report.failures:
            err_console.print(f"[red]failed:[/] {failure}")
        raise typer.Exit(code=1)
    if run_dbt:
        with console.status("dbt build ..."):
            ok = bf.run_dbt(full_refresh=full_refresh)
        if not ok:
            _fail(RuntimeError("dbt build failed (see the run in the Dagster UI or dbt_project/target)"))
        console.print("- dbt build done (analytics.perp_trading_event_log, positions, pnl_snapshot_v2, leaderboard)")


# CopySettings / SimulationRequest field -> the `simulate` flag that sets it (errors name both)
SIMULATE_FLAGS: dict[str, str] = {
    "leaders": "--leaders", "start": "--from", "end": "--to", "platform": "--platform",
    "mode": "--mode", "sizing": "--sizing", "ratio": "--ratio", "fixed_collateral_usd": "--fixed-collateral",
    "baseline_collateral_usd": "--baseline-collateral", "leverage": "--leverage",
    "fixed_leverage": "--fixed-leverage", "min_leverage": "--min-leverage", "max_leverage": "--max-leverage",
    "min_collateral_usd": "--min-collateral", "max_collateral_usd": "--max-collateral",
    "max_margin_per_position_usd": "--max-margin", "max_open_positions": "--max-open",
    "initial_capital_usd": "--capital", "side": "--side", "pairs_allow": "--pairs", "pairs_deny": "--exclude-pairs",
    "stop_loss_pct": "--stop-loss-pct", "take_profit_pct": "--take-profit-pct", "stop_loss_usd": "--stop-loss-usd",
    "take_profit_usd": "--take-profit-usd", "copy_delay_seconds": "--delay", "slippage_bps": "--slippage-bps",
    "impact_bps_per_million": "--impact-bps", "fee_bps": "--no-fees", "funding": "--no-funding",
    "grid": "--grid", "walk_forward": "--walk-forward",
}


# SelectionCriteria field (of `simulate --auto`) -> its flag
AUTO_FLAGS: dict[str, str] = {
    "count": "--auto-count", "lookback_days": "--lookback-days", "min_trades": "--min-trades",
    "max_trades": "--max-trades", "min_r2": "--min-r2", "max_r2": "--max-r2", "min_slope": "--min-slope",
    "max_slope": "--max-slope", "max_leverage": "--max-avg-leverage",
    "min_avg_collateral_usd": "--min-avg-collateral", "rank_by": "--rank-by",
}


def _fail_fields(problems: list[tuple[str, str]]) -> None:
    """One line naming each bad field and the flag that sets it: ``end (--to): must be after start``."""
    parts = []
    for where, what in problems:
        field = where.split(".")[-1]
        flag = AUTO_FLAGS.get(field) if where.startswith("criteria.") else SIMULATE_FLAGS.get(field)
        parts.append(f"{field} ({flag}): {what}" if flag else f"{where}: {what}")
    err_console.print(f"[bold red]error:[/] {'; '.join(parts)}", soft_wrap=True)
    raise typer.Exit(code=1)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value is not None else None


@app.command("simulate")
def simulate(
    leaders: str = typer.Option(None, "--leaders", help="Leader addresses, comma-separated (one bot each)."),
    start: str = typer.Option(None, "--from", help="Window start, ISO date or time (UTC unless an offset is given)."),
    end: str = typer.Option(None, "--to", help="Window end (exclusive)."),
    platform: str = typer.Option(None, "--platform", help="Only this venue's trades: gmx, gtrade, synthetix."),
    mode: str = typer.Option(None, "--mode", help="default | reverse (take the other side)."),
    sizing: str = typer.Option(None, "--sizing", help="ratio | fixed | baseline."),
    ratio: str = typer.Option(None, "--ratio", help="Our collateral / the leader's (sizing=ratio)."),
    fixed_collateral: str = typer.Option(None, "--fixed-collateral", help="USD collateral per position (sizing=fixed)."),
    baseline_collateral: str = typer.Option(None, "--baseline-collateral", help="USD for the leader's baseline size (sizing=baseline)."),
    leverage: str = typer.Option(None, "--leverage", help="follow | fixed."),
    fixed_leverage: str = typer.Option(None, "--fixed-leverage", help="Leverage when --leverage fixed."),
    min_leverage: str = typer.Option(None, "--min-leverage"),
    max_leverage: str = typer.Option(None, "--max-leverage"),
    min_collateral: str = typer.Option(None, "--min-collateral", help="Orders below this USD are skipped."),
    max_collateral: str = typer.Option(None, "--max-collateral", help="Orders above this USD are cut to it."),
    max_margin: str = typer.Option(None, "--max-margin", help="Max USD margin per position."),
    max_open: str = typer.Option(None, "--max-open", help="Max open positions per bot."),
    capital: str = typer.Option(None, "--capital", help="Initial capital per bot, USD."),
    side: str = typer.Option(None, "--side", help="both | long | short (our side)."),
    pairs: str = typer.Option(None, "--pairs", help="Only these markets, comma-separated (ETH/USD,...)."),
    exclude_pairs: str = typer.Option(None, "--exclude-pairs", help="Never these markets."),
    stop_loss_pct: str = typer.Option(None, "--stop-loss-pct", help="% of the position's margin."),
    take_profit_pct: str = typer.Option(None, "--take-profit-pct"),
    stop_loss_usd: str = typer.Option(None, "--stop-loss-usd"),
    take_profit_usd: str = typer.Option(None, "--take-profit-usd"),
    delay: str = typer.Option(None, "--delay", help="Copy delay in seconds."),
    slippage_bps: str = typer.Option(None, "--slippage-bps"),
    impact_bps: str = typer.Option(None, "--impact-bps", help="Extra slippage bps per $1M notional."),
    no_fees: bool = typer.Option(False, "--no-fees", help="No venue fees."),
    no_funding: bool = typer.Option(False, "--no-funding", help="No funding / borrowing."),
    grid: list[str] = typer.Option(None, "--grid", help="FIELD=MIN:MAX:STEP (repeatable): one variant per combination,"
                                   " e.g. --grid stop_loss_pct=10:50:10 --grid ratio=0.5:2:0.5; ranked by net PnL."),
    auto: bool = typer.Option(False, "--auto", help="Choose the leaders from data before --from (needs --platform); sizing defaults to fixed (standard) collateral."),
    walk_forward: float = typer.Option(None, "--walk-forward", help="--auto: consecutive windows of this many days over"
                                       " --from..--to, each copying leaders chosen before it (printed, not stored)."),
    auto_count: str = typer.Option(None, "--auto-count", help="--auto: how many leaders (default 10)."),
    lookback_days: str = typer.Option(None, "--lookback-days", help="--auto: days before --from to judge on (default 30)."),
    min_trades: str = typer.Option(None, "--min-trades", help="--auto: at least this many trades in the lookback."),
    max_trades: str = typer.Option(None, "--max-trades"),
    min_r2: str = typer.Option(None, "--min-r2", help="--auto: smoothness of the cumulative closed PnL (0..1)."),
    max_r2: str = typer.Option(None, "--max-r2"),
    min_slope: str = typer.Option(None, "--min-slope", help="--auto: USD per closed position."),
    max_slope: str = typer.Option(None, "--max-slope"),
    max_avg_leverage: str = typer.Option(None, "--max-avg-leverage", help="--auto: the leader's average leverage."),
    min_avg_collateral: str = typer.Option(None, "--min-avg-collateral", help="--auto: the leader's average USD collateral."),
    rank_by: str = typer.Option(None, "--rank-by", help="--auto: pnl | r2 | slope."),
) -> None:
    """Simulate copying leaders over a window, in-process through Dagster (the
    simulation_results asset, one partition per simulation), and print plan and bot metrics.
    Inputs are checked first: a bad one exits 1 naming the field, and nothing is written.
    With --auto the leaders are chosen from data strictly before the window (no look-ahead)."""
    from copytrade.simulation.settings import DEFAULT_FEE_BPS
    from copytrade.simulation.store import InvalidRequest, make_request

    values = {
        "mode": mode, "sizing": sizing, "ratio": ratio, "fixed_collateral_usd": fixed_collateral,
        "baseline_collateral_usd": baseline_collateral, "leverage": leverage, "fixed_leverage": fixed_leverage,
        "min_leverage": min_leverage, "max_leverage": max_leverage, "min_collateral_usd": min_collateral,
        "max_collateral_usd": max_collateral, "max_margin_per_position_usd": max_margin,
        "max_open_positions": max_open, "initial_capital_usd": capital, "side": side,
        "pairs_allow": _split(pairs), "pairs_deny": _split(exclude_pairs), "stop_loss_pct": stop_loss_pct,
        "take_profit_pct": take_profit_pct, "stop_loss_usd": stop_loss_usd, "take_profit_usd": take_profit_usd,
        "copy_delay_seconds": delay, "slippage_bps": slippage_bps, "impact_bps_per_million": impact_bps,
        "fee_bps": {venue: 0.0 for venue in DEFAULT_FEE_BPS} if no_fees else None,
        "funding": False if no_funding else None,
    }
    if auto and sizing is None:  # an auto plan copies with standard collateral (--fixed-collateral)
        values["sizing"] = "fixed"
    base = {k: v for k, v in values.items() if v is not None}
    fields = {"leaders": _split(leaders), "start": start, "end": end, "platform": platform,
              "settings": _grid_settings(base, grid) if grid else [base]}
    criteria = None
    if auto:
        criteria = _auto_criteria(fields, {
            "count": auto_count, "lookback_days": lookback_days, "min_trades": min_trades, "max_trades": max_trades,
            "min_r2": min_r2, "max_r2": max_r2, "min_slope": min_slope, "max_slope": max_slope,
            "max_leverage": max_avg_leverage, "min_avg_collateral_usd": min_avg_collateral, "rank_by": rank_by,
        })
        fields = {**fields, "leaders": [AUTO_PLACEHOLDER], "kind": "auto"}  # chosen once the window is valid
    try:
        request = make_request(**{k: v for k, v in fields.items() if v is not None})
    except InvalidRequest as exc:
        _fail_fields(exc.problems)
    if walk_forward is not None and (criteria is None or walk_forward <= 0):
        _fail_fields([("walk_forward", "needs --auto and a positive number of days")])
    stack = Stack.from_env()
    os.environ.update(stack.endpoints.environ())
    with _connect(stack) as conn:
        if walk_forward is not None:
            _run_walk_forward(conn, request, criteria, walk_forward)
            return
        if criteria is not None:
            request = _auto_leaders(conn, request, criteria)
        _run_simulation(conn, request)


AUTO_PLACEHOLDER = "<auto>"


def _run_walk_forward(conn, request, criteria, days: float) -> None:
    """Walk-forward research: per window, leaders chosen with data before it, then copied."""
    from rich.table import Table

    from copytrade.simulation.research import walk_forward

    results = walk_forward(conn, request.platform, request.start, request.end, days, criteria, request.settings)
    table = Table(title=f"Walk-forward on {request.platform}: {len(results)} windows of {days:g} days")
    for column in ("window (UTC)", "leaders", "net PnL", "follower PnL", "leader PnL", "cost", "max DD", "trades"):
        table.add_column(column, justify="left" if column == "window (UTC)" else "right")
    total = 0.0
    for w in results:
        span = f"{w.start:%Y-%m-%d %H:%M} -> {w.end:%Y-%m-%d %H:%M}"
        m = w.metrics
        if m is None:
            table.add_row(span, str(len(w.leaders)), f"skipped: {w.skipped}", "", "", "", "", "")
            continue
        total += m.net_pnl
        table.add_row(span, str(len(w.leaders)), _money(m.net_pnl), _money(m.follower_pnl), _money(m.leader_pnl),
                      _money(m.cost), _money(m.max_drawdown_usd), str(m.trades))
    table.caption = f"net PnL over all windows: {_money(total)} USD"
    console.print(table, width=160)


def _grid_settings(base: dict, grid: list[str]) -> list[dict]:
    """The settings variants of ``--grid FIELD=MIN:MAX:STEP`` options over the other flags."""
    from pydantic import ValidationError

    from copytrade.simulation.research import GridError, expand_grid
    from copytrade.simulation.settings import CopySettings

    ranges = {}
    for spec in grid:
        name, _, bounds = spec.partition("=")
        try:
            low, high, step = (float(x) for x in bounds.split(":"))
        except ValueError:
            _fail_fields([("grid", f"{spec!r} is not FIELD=MIN:MAX:STEP")])
        ranges[name.strip()] = (low, high, step)
    try:
        settings = CopySettings.model_validate(base)
    except ValidationError as exc:
        _fail_fields([(".".join(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, "))
                      for err in exc.errors()])
    try:
        return [variant.model_dump() for variant in expand_grid(settings, ranges)]
    except GridError as exc:
        _fail_fields([("grid", str(exc))])


def _auto_criteria(fields: dict, values: dict):
    """The selection criteria of --auto, checked like every other input (exit 1 naming the flag)."""
    from pydantic import ValidationError

    from copytrade.simulation.selection import SelectionCriteria

    problems = []
    if fields["leaders"]:
        problems.append(("leaders", "give --leaders or --auto, not both"))
    if not fields["platform"]:
        problems.append(("platform", "--auto chooses among one venue's traders: give --platform"))
    try:
        criteria = SelectionCriteria.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        problems += [("criteria." + ".".join(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, "))
                     for err in exc.errors()]
    if problems:
        _fail_fields(problems)
    return criteria


def _auto_leaders(conn, request, criteria):
    """The request with the leaders auto selection picks from data strictly before its start."""
    from copytrade.simulation.selection import select_leaders
    from copytrade.simulation.store import make_request

    try:
        chosen = select_leaders(conn, request.platform, request.start, criteria)
    except ValueError as exc:
        _fail(exc)
    if not chosen:
        _fail(ValueError(f"leaders: no {request.platform} trader passes the --auto criteria in the"
                         f" {criteria.lookback_days:g} days before {request.start.isoformat()}"))
    console.print(f"- auto selection: {len(chosen)} leaders of {request.platform} (judged before {request.start:%Y-%m-%d %H:%M})")
    return make_request(**{**request.model_dump(), "leaders": chosen})


def _connect(stack: Stack):
    """An autocommit connection to the app database, or exit 1 saying how to start it."""
    import psycopg

    from copytrade.config import plain_pg_url

    try:
        return psycopg.connect(plain_pg_url(stack.endpoints.database_url), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        _fail(RuntimeError(f"the database is not reachable ({exc}); `copytrade services up` starts it"))


def _run_simulation(conn, request) -> None:
    """Store the request, materialize its partition in-process and print what it stored."""
    from dagster import DagsterInstance

    from copytrade.simulation.data import UnknownLeader
    from copytrade.simulation.store import EmptyWindow
    from orchestration.assets.simulations import (
        failure_message,
        materialize_simulation,
        request_simulation,
    )

    with DagsterInstance.get() as instance:
        try:
            sid = request_simulation(instance, conn, request)
        except (UnknownLeader, EmptyWindow) as exc:
            _fail(exc)
        with console.status(f"simulating {sid} ..."):
            result = materialize_simulation(sid, instance)
        if not result.success:
            _fail(RuntimeError(f"simulation {sid} failed: {failure_message(result)}"))
        _print_simulation(conn, sid)


def _money(value) -> str:
    return f"{value:,.2f}" if value is not None else "-"


def _pct(value) -> str:
    return f"{value:.1%}" if value is not None else "-"


GRID_ROWS = 20  # variants listed by `simulate` (all are stored)


def _print_simulation(conn, sid: str) -> None:
    """The stored plan variants (best first), the best variant's bots and its equity sparkline."""
    from rich.table import Table

    from copytrade.simulation.store import fetch_bots, fetch_equity, fetch_plans, fetch_simulation
    from orchestration.assets.simulations import sample, sparkline

    sim = fetch_simulation(conn, sid)
    plans = fetch_plans(conn, sid)
    columns = ("net PnL", "follower PnL", "leader PnL", "cost", "ROI", "max DD", "max DD %", "trades", "win rate")

    def metric_cells(row) -> list[str]:
        m = row["metrics"]
        return [_money(row["net_pnl"]), _money(row["follower_pnl"]), _money(row["leader_pnl"]), _money(row["cost"]),
                _pct(row["roi"]), _money(row["max_drawdown_usd"]), _pct(row["max_drawdown_pct"]), str(row["trades"]),
                _pct(m.get("win_rate"))]

    window = f"{sim['window_start']:%Y-%m-%d %H:%M} -> {sim['window_end']:%Y-%m-%d %H:%M} UTC"
    table = Table(title=f"Simulation {sid}: {len(sim['leaders'])} leaders, {window}")
    varying = sorted(k for k in plans[0]["settings"] if len({str(p["settings"].get(k)) for p in plans}) > 1)
    for column in ("rank", "variant", *(["settings"] if varying else []), *columns):
        table.add_column(column, justify="left" if column == "settings" else "right")
    shown = plans[:GRID_ROWS]
    for row in shown:
        differs = [", ".join(f"{k}={row['settings'][k]}" for k in varying)] if varying else []
        table.add_row(str(row["rank"]), str(row["variant"]), *differs, *metric_cells(row))
    if len(plans) > len(shown):
        table.caption = f"best {len(shown)} of {len(plans)} variants"
    console.print(table, width=180)
    best = plans[0]["variant"]
    bots = Table(title=f"Bots of variant {best}")
    bots.add_column("leader", justify="left")
    for column in columns:
        bots.add_column(column, justify="right")
    for row in fetch_bots(conn, sid, best):
        bots.add_row(row["leader"], *metric_cells(row))
    console.print(bots, width=160)
    curve = [(0, float(e)) for _, e in fetch_equity(conn, sid, best)]
    if curve:
        console.print(f"equity {sparkline([e for _, e in sample(curve, 60)])} "
                      f"{_money(curve[0][1])} -> {_money(curve[-1][1])} USD", soft_wrap=True)


def _dagster_env(stack: Stack) -> dict[str, str]:
    return {**os.environ, **stack.endpoints.environ()}


@app.command("validate")
def validate() -> None:
    """Load the Dagster code location of workspace.yaml and report its definitions."""
    stack = Stack.from_env()
    root = find_project_root()
    result = subprocess.run(
        [venv_bin("dagster"), "definitions", "validate", "-w", str(root / "workspace.yaml")],
        env=_dagster_env(stack),
        cwd=root,
    )
    if result.returncode != 0:
        _fail(RuntimeError("the Dagster definitions failed to load (see above)"))


@app.command("ui")
def ui(port: int = typer.Option(3000, help="Port of the Dagster UI on 127.0.0.1.")) -> None:
    """Start the services, then the Dagster UI (dagster dev) on 127.0.0.1."""
    stack = Stack.from_env()
    try:
        for message in stack.up():
            console.print(f"- {message}")
    except ServiceError as exc:
        _fail(exc)
    root = find_project_root()
    console.print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C stops it; services stay up)")
    # dagster dev started from a script ignores INT/TERM unless the defaults are restored.
    cmd = [
        "env", "--default-signal=INT,QUIT,TERM",
        venv_bin("dagster"), "dev", "-h", "127.0.0.1", "-p", str(port),
        "-w", str(root / "workspace.yaml"),
    ]
    os.chdir(root)
    os.execvpe(cmd[0], cmd, _dagster_env(stack))


@app.command("demo")
def demo(
    traders: int = typer.Option(200, help="Traders of the demo scenario."),
    days: int = typer.Option(30, help="Days of the demo scenario."),
    keep_services: bool = typer.Option(
        False, "--keep-services", help="Leave the servers and the dev chain running (for `make ui`)."
    ),
) -> None:
    """The main job on local defaults: services, dev chain, seed, backfill, dbt build, the
    top 10 of the 30-day leaderboard and an auto-selected copy-trading simulation. What the demo started is stopped at the end."""
    import psycopg

    from copytrade.config import Settings, plain_pg_url
    from copytrade.devchain.anvil import CHAIN_ID
    from copytrade.devchain.chain import DevChainError
    from copytrade.indexer.health import forget_chain

    stack = Stack.from_env()
    chain = _devchain(None)
    chain_started = False
    try:
        for message in stack.up():
            console.print(f"- {message}")
        os.environ.update(stack.endpoints.environ())
        if chain.anvil.info() is not None:
            chain.down()  # a fresh chain: the demo seeds its own scenario
        info, chain_started = chain.up()
        console.print(f"- dev chain at {info.url}")
        with _connect(stack) as conn:
            removed = forget_chain(conn, CHAIN_ID)
        if removed:
            console.print(f"- forgot {removed:,} logs of an earlier dev chain")
        devchain_seed(traders=traders, days=days, seed=1, window=300, port=None)
        # a new chain replaced the old one's data: the marts are rebuilt from scratch
        backfill(contract=None, from_block=None, to_block=None, run_dbt=True, full_refresh=True)
        with psycopg.connect(plain_pg_url(stack.endpoints.database_url)) as conn:
            rows = conn.execute(
                "SELECT rank, platform, trader, pnl_usd, roi, trades, win_rate, max_drawdown_usd"
                " FROM analytics.leaderboard WHERE window_name = '30D'"
                " ORDER BY pnl_usd DESC LIMIT 10"
            ).fetchall()
        _print_leaderboard(rows)
        _demo_simulation(stack)
        _print_status(stack)
        console.print(f"Data in {Settings().resolved_home}; `make ui` to explore it in Dagster.")
    except (ServiceError, DevChainError) as exc:
        _fail(exc)
    finally:
        if not keep_services:
            if chain_started:
                chain.down()
                console.print("- dev chain stopped")
            for message in stack.down(only_started=True):
                console.print(f"- {message}")


def _demo_simulation(stack: Stack) -> None:
    """Copy the 5 best GMX traders of the first two thirds of the history over the last third
    (chosen with data before the window only), $1,000 per position, default costs."""
    from datetime import timedelta

    from copytrade.simulation.selection import SelectionCriteria
    from copytrade.simulation.store import make_request

    with _connect(stack) as conn:
        first, last = conn.execute(
            "SELECT min(block_time), max(block_time) FROM analytics.perp_trading_event_log"
        ).fetchone()
        start = first + (last - first) * 2 / 3
        request = make_request(
            leaders=[AUTO_PLACEHOLDER], start=start, end=last + timedelta(seconds=1), platform="gmx", kind="auto",
            settings=[{"sizing": "fixed", "fixed_collateral_usd": 1_000, "initial_capital_usd": 10_000}],
        )
        criteria = SelectionCriteria(count=5, lookback_days=(start - first).total_seconds() / 86_400,
                                     min_trades=4, rank_by="pnl")
        console.print(f"- simulating: copy the best 5 GMX traders of {first:%Y-%m-%d} .. {start:%Y-%m-%d} "
                      f"from {start:%Y-%m-%d} to {last:%Y-%m-%d}")
        _run_simulation(conn, _auto_leaders(conn, request, criteria))


def _print_leaderboard(rows) -> None:
    from rich.table import Table

    table = Table(title="Top 10 traders, last 30 days (all venues)")
    for column in ("#", "platform", "trader", "PnL (USD)", "ROI", "trades", "win rate", "max drawdown"):
        table.add_column(column, justify="right" if column not in ("platform", "trader") else "left")
    for i, (_, platform, trader, pnl, roi, trades, win_rate, drawdown) in enumerate(rows, 1):
        table.add_row(
            str(i), platform, trader, f"{pnl:,.2f}", f"{roi:.1%}" if roi is not None else "-", str(trades),
            f"{win_rate:.0%}" if win_rate is not None else "-", f"{drawdown:,.2f}",
        )
    console.print(table, width=140)


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="copytrade")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
