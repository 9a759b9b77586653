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
) -> None:
    """Materialize raw-log partitions (contract x block range) in-process, like the Dagster UI."""
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
    keep_services: bool = typer.Option(
        False, "--keep-services", help="Leave the servers running afterwards (for `make ui`)."
    ),
) -> None:
    """The main job on local defaults: services up, Dagster definitions load, what runs where.

    Servers the demo had to start are stopped at the end; ones already running stay up.
    """
    stack = Stack.from_env()
    try:
        for message in stack.up():
            console.print(f"- {message}")
        validate()
        _print_status(stack)
    except ServiceError as exc:
        _fail(exc)
    finally:
        if not keep_services:
            for message in stack.down(only_started=True):
                console.print(f"- {message}")


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="copytrade")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
