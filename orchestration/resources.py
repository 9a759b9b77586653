"""Dagster resources: how assets reach PostgreSQL, Redis and the chains' RPC endpoints.

URLs come from the environment (``DATABASE_URL``, ``REDIS_URL``, ``RPC_URL_<CHAIN_ID>``),
set by ``copytrade ui`` / ``copytrade services`` for local servers or by the deployment for
external ones; the dev chain's endpoint is found under ``COPYTRADE_HOME`` when not set.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import redis
from dagster import ConfigurableResource, EnvVar

from copytrade.chain.chains import chain_config, rpc_url
from copytrade.chain.rpc import RpcClient
from copytrade.config import Settings, plain_pg_url


class PostgresResource(ConfigurableResource):
    """The application database (schemas raw, analytics, app)."""

    database_url: str

    def connect(self, **kwargs) -> psycopg.Connection:
        """Autocommit: library code opens its own transactions where it needs one."""
        kwargs.setdefault("autocommit", True)
        return psycopg.connect(plain_pg_url(self.database_url), **kwargs)


class RedisResource(ConfigurableResource):
    """Coordination for the live side: locks, action streams, rate limits."""

    redis_url: str

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)


class RpcResource(ConfigurableResource):
    """JSON-RPC clients per chain: adaptive eth_getLogs, retries, rate limits, finality."""

    requests_per_second: float | None = None

    def client(self, chain_id: int) -> RpcClient:
        """A client for ``chain_id`` that refuses an endpoint serving another chain."""
        url = rpc_url(chain_id, Settings().resolved_home)
        return RpcClient(
            url,
            requests_per_second=self.requests_per_second,
            use_finalized_tag=chain_config(chain_id).use_finalized_tag,
            expected_chain_id=chain_id,
        )


def default_resources() -> dict[str, ConfigurableResource]:
    return {
        "postgres": PostgresResource(database_url=EnvVar("DATABASE_URL")),
        "redis": RedisResource(redis_url=EnvVar("REDIS_URL")),
        "rpc": RpcResource(),
    }


def home() -> Path:
    return Settings().resolved_home
