"""`copytrade services up|down|status` against real PostgreSQL 15 and Redis 7 processes."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis

from copytrade.config import Settings, plain_pg_url, resolve_endpoints
from copytrade.services.process import pid_alive, read_pid
from copytrade.warehouse.migrate import available_migrations
from tests.conftest import ROOT, local_env, new_test_home

CLI = [str(Path(sys.executable).parent / "copytrade")]


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], env={**env, "COLUMNS": "200"}, cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )


def processes_mentioning(text: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if text in line and "ps -eo" not in line]


@pytest.fixture
def lifecycle_env():
    home = new_test_home("cli")
    env = local_env(home)
    yield home, env
    cli(["services", "down"], env)
    shutil.rmtree(home, ignore_errors=True)


def test_up_twice_status_and_down_leaves_nothing(lifecycle_env):
    home, env = lifecycle_env
    first = cli(["services", "up"], env)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "created and started" in first.stdout

    settings = Settings(**{k: v for k, v in env.items() if k.startswith("COPYTRADE_")})
    ep = resolve_endpoints(settings)
    with psycopg.connect(plain_pg_url(ep.database_url)) as conn:
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}
        assert {"raw", "analytics", "app"} <= schemas
        applied = [r[0] for r in conn.execute("SELECT version FROM app.schema_migrations ORDER BY 1")]
        assert applied == [m.version for m in available_migrations()]
        assert len(applied) >= 4
        listen = conn.execute("SHOW listen_addresses").fetchone()[0]
        assert listen == "127.0.0.1"
    with psycopg.connect(plain_pg_url(ep.dagster_pg_url)) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        assert {"runs", "event_logs", "alembic_version"} <= tables
    r = redis.Redis.from_url(ep.redis_url)
    r.set("copytrade:test", "1")
    assert r.get("copytrade:test") == b"1"
    # the password is required
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=settings.redis_port).ping()

    pg_pid = int((home / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
    redis_pid = read_pid(home / "redis" / "redis.pid")
    assert pid_alive(pg_pid) and redis_pid and pid_alive(redis_pid)

    second = cli(["services", "up"], env)
    assert second.returncode == 0, second.stderr
    assert "PostgreSQL already running" in second.stdout and "Redis already running" in second.stdout
    assert int((home / "postgres" / "data" / "postmaster.pid").read_text().split()[0]) == pg_pid
    assert read_pid(home / "redis" / "redis.pid") == redis_pid

    status = cli(["services", "status"], env)
    assert status.returncode == 0
    assert status.stdout.count("running") == 2
    assert f"127.0.0.1:{settings.pg_port}" in status.stdout
    # secrets never reach the terminal
    secrets = (home / "secrets.json").read_text()
    for value in __import__("json").loads(secrets).values():
        assert value not in first.stdout + second.stdout + status.stdout

    down = cli(["services", "down"], env)
    assert down.returncode == 0, down.stderr
    assert not pid_alive(pg_pid) and not pid_alive(redis_pid)
    assert processes_mentioning(str(home)) == []
    after = cli(["services", "status"], env)
    assert "running" not in after.stdout.replace("not running", "")
    assert "stopped" in after.stdout


def test_port_taken_gives_clear_error(lifecycle_env):
    home, env = lifecycle_env
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = cli(["services", "up"], {**env, "COPYTRADE_PG_PORT": str(port)})
    assert result.returncode == 1
    message = " ".join((result.stderr + result.stdout).split())
    assert f"port {port}" in message and "already in use" in message
    assert "Traceback" not in result.stderr


def test_external_urls_start_nothing(stack, tmp_path):
    """With DATABASE_URL / REDIS_URL set, `up` only migrates; it runs no server of its own."""
    home = new_test_home("external")
    env = local_env(home)
    env.update(DATABASE_URL=stack.endpoints.database_url, REDIS_URL=stack.endpoints.redis_url)
    try:
        result = cli(["services", "up", "--skip-dagster"], env)
        assert result.returncode == 0, result.stderr
        assert "app database up to date" in result.stdout
        assert not (home / "postgres").exists() and not (home / "redis").exists()
        status = cli(["services", "status"], env)
        assert "external (DATABASE_URL)" in status.stdout and "external (REDIS_URL)" in status.stdout
        assert status.stdout.count(" reachable ") == 2
        down = cli(["services", "down"], env)
        assert down.returncode == 0
        # the session's servers are untouched
        stack.check_reachable()
    finally:
        shutil.rmtree(home, ignore_errors=True)
