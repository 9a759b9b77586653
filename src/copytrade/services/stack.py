"""Bring the whole local stack up or down, and say what runs where.

Servers whose URL is set in the environment are used as they are; only the missing ones
are started here. ``up`` is idempotent: a second call finds everything running, re-applies
pending migrations (none) and returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
import redis

from copytrade.config import Endpoints, Settings, mask_url, plain_pg_url, resolve_endpoints
from copytrade.services.dagster_home import migrate_dagster_storage, write_dagster_home
from copytrade.services.postgres import LocalPostgres
from copytrade.services.process import ServiceError
from copytrade.services.redis_server import LocalRedis
from copytrade.warehouse.migrate import migrate


@dataclass
class Stack:
    settings: Settings
    endpoints: Endpoints
    started: set[str] = field(default_factory=set)

    @classmethod
    def from_env(cls) -> "Stack":
        settings = Settings()
        return cls(settings, resolve_endpoints(settings))

    @property
    def postgres(self) -> LocalPostgres:
        return LocalPostgres(
            self.endpoints.paths,
            self.settings.pg_port,
            self.settings.pg_bin,
            durable=self.settings.pg_durable,
        )

    @property
    def redis(self) -> LocalRedis:
        return LocalRedis(self.endpoints.paths, self.settings.redis_port)

    def up(self, *, dagster: bool = True) -> list[str]:
        """Start what is missing, then migrate the app database and Dagster's storage."""
        messages: list[str] = []
        # Others may traverse the home (the postgres account must reach its data dir) but
        # not list it; secrets inside are 0600.
        self.endpoints.home.mkdir(mode=0o711, parents=True, exist_ok=True)
        if self.endpoints.managed_postgres:
            if not self.postgres.status().running:
                self.started.add("postgres")
            messages.append(self.postgres.up())
        if self.endpoints.managed_redis:
            if not self.redis.status().running:
                self.started.add("redis")
            messages.append(self.redis.up())
        self.check_reachable()
        applied = migrate(self.endpoints.database_url)
        messages.append(
            f"app database migrated ({', '.join(applied)} applied)" if applied else "app database up to date"
        )
        messages.append(f"{self.create_landing_tables()} landing tables ready")
        write_dagster_home(self.endpoints.paths.dagster_home)
        if dagster:
            migrate_dagster_storage(self.endpoints)
            messages.append(f"Dagster instance ready in {self.endpoints.paths.dagster_home}")
        return messages

    def create_landing_tables(self) -> int:
        """The decoded landing table of every event of every registry ABI (so dbt sources exist
        before the first ingestion)."""
        from copytrade.indexer.ingest import ensure_landing_tables
        from copytrade.venues.registry import load_registry
        from copytrade.venues.spec import landing_specs

        specs = landing_specs(load_registry(self.endpoints.home).rows)
        with psycopg.connect(plain_pg_url(self.endpoints.database_url), autocommit=True) as conn:
            ensure_landing_tables(conn, specs.values())
        return len(specs)

    def down(self, only_started: bool = False) -> list[str]:
        """Stop the project-local servers; with ``only_started``, just those ``up`` started."""
        messages = []
        if self.endpoints.managed_redis and (not only_started or "redis" in self.started):
            messages.append(self.redis.down())
        if self.endpoints.managed_postgres and (not only_started or "postgres" in self.started):
            messages.append(self.postgres.down())
        return messages

    def check_reachable(self) -> None:
        try:
            with psycopg.connect(plain_pg_url(self.endpoints.database_url), connect_timeout=10) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise ServiceError(f"PostgreSQL at {mask_url(self.endpoints.database_url)} does not answer: {exc}") from exc
        try:
            redis.Redis.from_url(self.endpoints.redis_url, socket_timeout=5).ping()
        except redis.RedisError as exc:
            raise ServiceError(f"Redis at {mask_url(self.endpoints.redis_url)} does not answer: {exc}") from exc

    def status(self) -> list[tuple[str, str, str, str]]:
        """Rows of (service, state, where, detail) for printing."""
        rows = []
        if self.endpoints.managed_postgres:
            st = self.postgres.status()
            rows.append(
                (
                    "postgres",
                    "running" if st.running else ("stopped" if st.initialized else "not created"),
                    mask_url(self.endpoints.database_url),
                    f"pid {st.pid}, data {st.data_dir}" if st.running else f"data {st.data_dir}",
                )
            )
        else:
            rows.append(("postgres", _probe_pg(self.endpoints.database_url), mask_url(self.endpoints.database_url), "external (DATABASE_URL)"))
        rows.append(("dagster storage", "", mask_url(self.endpoints.dagster_pg_url), f"DAGSTER_HOME {self.endpoints.paths.dagster_home}"))
        if self.endpoints.managed_redis:
            rst = self.redis.status()
            rows.append(
                (
                    "redis",
                    "running" if rst.running else "stopped",
                    mask_url(self.endpoints.redis_url),
                    f"pid {rst.pid}" if rst.running else "",
                )
            )
        else:
            rows.append(("redis", _probe_redis(self.endpoints.redis_url), mask_url(self.endpoints.redis_url), "external (REDIS_URL)"))
        return rows


def _probe_pg(url: str) -> str:
    try:
        with psycopg.connect(plain_pg_url(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return "reachable"
    except psycopg.Error:
        return "unreachable"


def _probe_redis(url: str) -> str:
    try:
        redis.Redis.from_url(url, socket_timeout=3).ping()
        return "reachable"
    except redis.RedisError:
        return "unreachable"
