"""Configuration from the environment, with defaults that run everything locally.

Every service is reached by URL (DESIGN.md §8). When a URL is set in the environment the
project uses that server and starts nothing; when it is not, ``copytrade services up`` runs
a project-local server under ``COPYTRADE_HOME`` (default ``<project>/.local``) and the URL
points there.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_DB = "copytrade"
DAGSTER_DB = "dagster"
APP_ROLE = "copytrade"


def find_project_root(start: Path | None = None) -> Path:
    """The nearest directory holding both ``pyproject.toml`` and ``workspace.yaml``.

    Commands may be run from a subdirectory; the local data must still land in one place.
    Falls back to the current directory when no project is found (an installed package).
    """
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "workspace.yaml").is_file():
            return candidate
    return here


class Settings(BaseSettings):
    """Environment variables understood by every copytrade process."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = Field(None, validation_alias=AliasChoices("DATABASE_URL"))
    dagster_pg_url: str | None = Field(None, validation_alias=AliasChoices("DAGSTER_PG_URL"))
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL"))
    home: Path | None = Field(None, validation_alias=AliasChoices("COPYTRADE_HOME"))
    pg_port: int = Field(54329, ge=1, le=65535, validation_alias=AliasChoices("COPYTRADE_PG_PORT"))
    redis_port: int = Field(
        56379, ge=1, le=65535, validation_alias=AliasChoices("COPYTRADE_REDIS_PORT")
    )
    anvil_port: int = Field(
        58545, ge=1, le=65535, validation_alias=AliasChoices("COPYTRADE_ANVIL_PORT")
    )
    pg_bin: Path = Field(
        Path("/usr/lib/postgresql/15/bin"), validation_alias=AliasChoices("COPYTRADE_PG_BIN")
    )
    pg_durable: bool = Field(True, validation_alias=AliasChoices("COPYTRADE_PG_DURABLE"))
    api_keys: str = Field("", validation_alias=AliasChoices("COPYTRADE_API_KEYS"))

    @property
    def resolved_home(self) -> Path:
        return (self.home or find_project_root() / ".local").resolve()


@dataclass(frozen=True)
class LocalPaths:
    """Where project-local services keep their files."""

    home: Path

    @property
    def secrets_file(self) -> Path:
        return self.home / "secrets.json"

    @property
    def pg_root(self) -> Path:
        return self.home / "postgres"

    @property
    def pg_data(self) -> Path:
        return self.pg_root / "data"

    @property
    def pg_log(self) -> Path:
        return self.pg_root / "postgres.log"

    @property
    def redis_dir(self) -> Path:
        return self.home / "redis"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"


class LocalSecrets:
    """Passwords of the project-local servers, generated once, kept in a 0600 file.

    They never appear on a command line (``ps`` would show them) nor in git (``.local/``
    is ignored); printed URLs go through :func:`mask_url`.
    """

    KEYS = ("pg_superuser_password", "pg_password", "redis_password")

    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def values(self) -> dict[str, str]:
        if self.path.exists():
            data = json.loads(self.path.read_text())
        else:
            data = {}
        missing = [k for k in self.KEYS if k not in data]
        if missing:
            for key in missing:
                data[key] = secrets.token_urlsafe(24)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
            tmp.replace(self.path)
        return data

    def __getitem__(self, key: str) -> str:
        return self.values[key]


@dataclass(frozen=True)
class Endpoints:
    """The URLs every process uses, and whether the project runs each server itself."""

    database_url: str
    dagster_pg_url: str
    redis_url: str
    managed_postgres: bool
    managed_redis: bool
    home: Path

    @property
    def paths(self) -> LocalPaths:
        return LocalPaths(self.home)

    def environ(self) -> dict[str, str]:
        """Environment for child processes (Dagster, dbt, the API) that must see the same servers."""
        return {
            "DATABASE_URL": self.database_url,
            "DAGSTER_PG_URL": self.dagster_pg_url,
            "REDIS_URL": self.redis_url,
            "DAGSTER_HOME": str(self.paths.dagster_home),
            "COPYTRADE_HOME": str(self.home),
            "DO_NOT_TRACK": "1",
            **dbt_environ(self.database_url),
        }


def dbt_environ(database_url: str) -> dict[str, str]:
    """The connection fields dbt's profiles.yml reads (dbt takes no URL)."""
    parts = urlsplit(plain_pg_url(database_url))
    return {
        "COPYTRADE_DB_HOST": parts.hostname or "127.0.0.1",
        "COPYTRADE_DB_PORT": str(parts.port or 5432),
        "COPYTRADE_DB_USER": unquote(parts.username or ""),
        "COPYTRADE_DB_PASSWORD": unquote(parts.password or ""),
        "COPYTRADE_DB_NAME": parts.path.lstrip("/") or "postgres",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def _local_pg_url(user: str, password: str, port: int, db: str, driver: str = "") -> str:
    scheme = f"postgresql+{driver}" if driver else "postgresql"
    return f"{scheme}://{quote(user)}:{quote(password, safe='')}@127.0.0.1:{port}/{db}"


def with_driver(url: str, driver: str) -> str:
    """``postgresql://...`` -> ``postgresql+<driver>://...``.

    Dagster needs psycopg2 (SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3 and
    dagster-postgres then fails on ``NOTIFY``); the app uses psycopg 3 directly.
    """
    parts = urlsplit(url)
    base = parts.scheme.split("+", 1)[0]
    return urlunsplit((f"{base}+{driver}" if driver else base, *parts[1:]))


def plain_pg_url(url: str) -> str:
    """A libpq-style URL (no SQLAlchemy driver suffix) for psycopg.connect."""
    return with_driver(url, "")


def mask_url(url: str) -> str:
    """The URL with its password replaced, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, *parts[2:]))


def resolve_endpoints(settings: Settings | None = None) -> Endpoints:
    """Decide, once, which servers this process talks to."""
    settings = settings or Settings()
    home = settings.resolved_home
    paths = LocalPaths(home)
    managed_pg = settings.database_url is None
    managed_redis = settings.redis_url is None
    secrets_ = LocalSecrets(paths.secrets_file) if (managed_pg or managed_redis) else None

    if managed_pg:
        assert secrets_ is not None
        database_url = _local_pg_url(APP_ROLE, secrets_["pg_password"], settings.pg_port, APP_DB)
        default_dagster = _local_pg_url(
            APP_ROLE, secrets_["pg_password"], settings.pg_port, DAGSTER_DB, "psycopg2"
        )
    else:
        database_url = settings.database_url  # type: ignore[assignment]
        default_dagster = with_driver(database_url, "psycopg2")
    dagster_pg_url = settings.dagster_pg_url or default_dagster

    if managed_redis:
        assert secrets_ is not None
        redis_url = f"redis://:{quote(secrets_['redis_password'], safe='')}@127.0.0.1:{settings.redis_port}/0"
    else:
        redis_url = settings.redis_url  # type: ignore[assignment]

    return Endpoints(
        database_url=database_url,
        dagster_pg_url=dagster_pg_url,
        redis_url=redis_url,
        managed_postgres=managed_pg,
        managed_redis=managed_redis,
        home=home,
    )
