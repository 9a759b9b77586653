"""Forward-only migrations of the app database, against the session's PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from copytrade.config import plain_pg_url
from copytrade.warehouse.migrate import MigrationError, available_migrations, migrate


@pytest.fixture
def scratch_db(stack):
    """An empty database owned by the app role, dropped afterwards."""
    name = "scratch_migrations"
    su = stack.postgres.superuser_conninfo()
    with psycopg.connect(su, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER copytrade").format(sql.Identifier(name)))
    url = stack.endpoints.database_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(su, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_migrate_applies_once(scratch_db):
    versions = [m.version for m in available_migrations()]
    assert migrate(scratch_db) == versions
    assert migrate(scratch_db) == []
    with psycopg.connect(plain_pg_url(scratch_db)) as conn:
        rows = conn.execute("SELECT version FROM app.schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == versions


def test_edited_migration_is_refused(scratch_db):
    migrate(scratch_db)
    with psycopg.connect(plain_pg_url(scratch_db)) as conn:
        conn.execute("UPDATE app.schema_migrations SET checksum = 'edited' WHERE version = '0001'")
    with pytest.raises(MigrationError, match="0001_schemas.sql changed"):
        migrate(scratch_db)
