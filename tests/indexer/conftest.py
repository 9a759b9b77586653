"""A seeded dev chain in the session's COPYTRADE_HOME (so Dagster and the CLI find it) and a
clean raw schema per module."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from copytrade.chain.rpc import RpcClient
from copytrade.config import plain_pg_url
from copytrade.devchain.chain import DevChain, ScenarioParams
from copytrade.services.process import free_port
from copytrade.venues.registry import load_registry

PARAMS = ScenarioParams(traders=30, days=2, seed=11)


def truncate_raw(conn: psycopg.Connection) -> None:
    tables = [r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'raw' AND tablename <> 'contracts'"
    )]
    if tables:
        conn.execute("TRUNCATE " + ", ".join(f'raw."{t}"' for t in tables))


@pytest.fixture(scope="module")
def devchain(stack):
    chain = DevChain(Path(os.environ["COPYTRADE_HOME"]), free_port())
    chain.down()
    chain.up()
    manifest = chain.seed(PARAMS)
    yield chain, manifest
    chain.down()


@pytest.fixture(scope="module")
def registry(devchain):
    return load_registry(Path(os.environ["COPYTRADE_HOME"]))


@pytest.fixture(scope="module")
def rows(registry):
    return registry.for_chain(31337)


@pytest.fixture(scope="module")
def rpc(devchain):
    client = RpcClient(devchain[0].info().url, use_finalized_tag=False)
    yield client
    client.close()


@pytest.fixture(scope="module")
def db(stack, devchain):
    conn = psycopg.connect(plain_pg_url(stack.endpoints.database_url), autocommit=True)
    truncate_raw(conn)
    yield conn
    conn.close()
