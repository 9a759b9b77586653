"""Forward-only SQL migrations of the application database.

Migrations are the numbered ``*.sql`` files beside this module. Each runs in its own
transaction and is recorded with its checksum in ``app.schema_migrations``; an advisory lock
makes concurrent runners (a test worker, a Dagster run, the CLI) wait for each other instead
of racing. Editing an applied migration is refused: write a new one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import psycopg

from copytrade.config import plain_pg_url

LOCK_KEY = 0x636F70797472  # "copytr"


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    folder = resources.files("copytrade.warehouse") / "migrations"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(version, rest.removesuffix(".sql"), entry.read_text()))
    return found


def migrate(database_url: str) -> list[str]:
    """Apply every pending migration; returns the versions applied now."""
    applied_now: list[str] = []
    with psycopg.connect(plain_pg_url(database_url), connect_timeout=10) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            conn.execute("CREATE SCHEMA IF NOT EXISTS app")
            conn.execute(
                """
                CREATE TABLE IF NOT EXISTS app.schema_migrations (
                    version text PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            done = dict(conn.execute("SELECT version, checksum FROM app.schema_migrations").fetchall())
            for m in available_migrations():
                if m.version in done:
                    if done[m.version] != m.checksum:
                        raise MigrationError(
                            f"migration {m.version}_{m.name}.sql changed after it was applied;"
                            " add a new migration instead of editing an applied one"
                        )
                    continue
                conn.execute(m.sql)
                conn.execute(
                    "INSERT INTO app.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (m.version, m.name, m.checksum),
                )
                applied_now.append(m.version)
    return applied_now
