"""Shared fixtures: one project-local PostgreSQL + Redis for the whole test session.

Tests never touch a developer's servers: the session gets its own home under
``.local/test/`` and free ports, and any DATABASE_URL / REDIS_URL in the environment is
ignored so that `make test` is the same everywhere. Everything is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from copytrade.config import Endpoints, find_project_root
from copytrade.services.process import free_port
from copytrade.services.stack import Stack

ROOT = find_project_root(Path(__file__).parent)
EXTERNAL_VARS = ("DATABASE_URL", "DAGSTER_PG_URL", "REDIS_URL")


def new_test_home(tag: str) -> Path:
    home = ROOT / ".local" / "test" / f"{tag}-{uuid.uuid4().hex[:8]}"
    home.mkdir(parents=True, mode=0o711)
    return home


def local_env(home: Path) -> dict[str, str]:
    """Environment for a project-local stack in ``home`` on fresh ports."""
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL_VARS}
    env.update(
        COPYTRADE_HOME=str(home),
        COPYTRADE_PG_PORT=str(free_port()),
        COPYTRADE_REDIS_PORT=str(free_port()),
        COPYTRADE_PG_DURABLE="false",
        DO_NOT_TRACK="1",
    )
    return env


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The session's running stack; its URLs are exported so subprocesses see them too."""
    home = new_test_home("session")
    saved = dict(os.environ)
    env = local_env(home)
    os.environ.clear()
    os.environ.update(env)
    st = Stack.from_env()
    try:
        st.up()
        os.environ.update(st.endpoints.environ())
        yield st
    finally:
        st.down()
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def endpoints(stack: Stack) -> Endpoints:
    return stack.endpoints
