"""A dev chain seeded big enough to show every behaviour, ingested once per module."""

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
from tests.dbt.harness import dbt, ingest_everything
from tests.indexer.conftest import truncate_raw

PARAMS = ScenarioParams(traders=40, days=4, seed=21)


@pytest.fixture(scope="module")
def pipeline(stack):
    """(DevChain, manifest, connection): chain seeded, every partition ingested, dbt seeds loaded."""
    home = Path(os.environ["COPYTRADE_HOME"])
    chain = DevChain(home, free_port())
    chain.down()
    chain.up()
    manifest = chain.seed(PARAMS)
    conn = psycopg.connect(plain_pg_url(stack.endpoints.database_url), autocommit=True)
    truncate_raw(conn)
    rows = load_registry(home).for_chain(31337)
    with RpcClient(chain.info().url, use_finalized_tag=False) as rpc:
        ingest_everything(conn, rpc, rows)
    dbt("seed")
    try:
        yield chain, manifest, conn
    finally:
        conn.close()
        chain.down()
