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
