"""The Dagster instance directory (``DAGSTER_HOME``) with dagster-postgres storage.

The storage URL is read from ``DAGSTER_PG_URL`` at load time rather than written into the
file, so no password lands on disk twice. Migrating the instance runs the ``dagster`` CLI
of this virtualenv in a subprocess: the domain library never imports Dagster itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from copytrade.config import Endpoints
from copytrade.services.process import ServiceError

DAGSTER_YAML = """\
# Written by `copytrade services up`; edit the generator, not this file.
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 4
  pools:
    default_limit: 4
"""


def venv_bin(name: str) -> str:
    """An executable of the running interpreter's environment (``.venv/bin/<name>``)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def write_dagster_home(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != DAGSTER_YAML:
        target.write_text(DAGSTER_YAML)
    return target


def migrate_dagster_storage(endpoints: Endpoints) -> None:
    """Create or upgrade Dagster's own tables in its database."""
    home = endpoints.paths.dagster_home
    write_dagster_home(home)
    env = {**os.environ, **endpoints.environ()}
    result = subprocess.run(
        [venv_bin("dagster"), "instance", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise ServiceError(f"`dagster instance migrate` failed:\n{result.stderr.strip()[-2000:]}")
