"""The Dagster code location loads, in-process and through `dagster definitions validate`."""

from __future__ import annotations

import os
import subprocess

import dagster as dg

from copytrade.services.dagster_home import venv_bin
from tests.conftest import ROOT


def test_definitions_load_in_process(stack):
    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    assert {"postgres", "redis"} <= set(repo.get_top_level_resources())
    # the resources resolve against the real servers of the session
    with dg.build_resources(repo.get_top_level_resources()) as resources:
        with resources.postgres.connect() as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == "copytrade"
        assert resources.redis.client().ping()


def test_dagster_validates_workspace(stack):
    result = subprocess.run(
        [venv_bin("dagster"), "definitions", "validate", "-w", str(ROOT / "workspace.yaml")],
        env={**os.environ, **stack.endpoints.environ()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "All code locations passed validation" in result.stderr + result.stdout


def test_dagster_instance_uses_postgres_storage(stack):
    instance = dg.DagsterInstance.from_config(str(stack.endpoints.paths.dagster_home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.run_storage.postgres_url.endswith("/dagster")
        assert isinstance(instance.get_runs_count(), int)  # the storage answers a query
    finally:
        instance.dispose()
