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
            ok = bf.run_dbt()
        if not ok:
            _fail(RuntimeError("dbt build failed (see the run in the Dagster UI or dbt_project/target)"))
        console.print("- dbt build done (analytics.perp_trading_event_log, positions, pnl_snapshot_v2, leaderboard)")


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
    """The main job on local defaults: services, dev chain, seed, backfill, dbt build, and the
    top 10 of the 30-day leaderboard. What the demo started is stopped at the end."""
    import psycopg

    from copytrade.config import Settings, plain_pg_url
    from copytrade.devchain.chain import DevChainError

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
        devchain_seed(traders=traders, days=days, seed=1, window=300, port=None)
        backfill(contract=None, from_block=None, to_block=None, run_dbt=True)
        with psycopg.connect(plain_pg_url(stack.endpoints.database_url)) as conn:
            rows = conn.execute(
                "SELECT rank, platform, trader, pnl_usd, roi, trades, win_rate, max_drawdown_usd"
                " FROM analytics.leaderboard WHERE window_name = '30D'"
                " ORDER BY pnl_usd DESC LIMIT 10"
            ).fetchall()
        _print_leaderboard(rows)
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
