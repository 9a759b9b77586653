"""Dagster resources: how assets reach PostgreSQL and Redis.

URLs come from the environment (``DATABASE_URL``, ``REDIS_URL``), set by ``copytrade ui`` /
``copytrade services`` for local servers or by the deployment for external ones.
"""

from __future__ import annotations

import psycopg
import redis
from dagster import ConfigurableResource, EnvVar

from copytrade.config import plain_pg_url


class PostgresResource(ConfigurableResource):
    """The application database (schemas raw, analytics, app)."""

    database_url: str

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(plain_pg_url(self.database_url), **kwargs)


class RedisResource(ConfigurableResource):
    """Coordination for the live side: locks, action streams, rate limits."""

    redis_url: str

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)


def default_resources() -> dict[str, ConfigurableResource]:
    return {
        "postgres": PostgresResource(database_url=EnvVar("DATABASE_URL")),
        "redis": RedisResource(redis_url=EnvVar("REDIS_URL")),
    }
