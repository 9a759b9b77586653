"""A seeded dev chain per test module (fresh anvil on a free port, stopped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from copytrade.devchain.chain import DevChain, ScenarioParams
from copytrade.services.process import free_port

PARAMS = ScenarioParams(traders=30, days=2, seed=5)


@dataclass(frozen=True)
class SeededChain:
    chain: DevChain
    url: str
    head: int
    genesis: int
    addresses: list[str]  # every deployed contract, lower case


@pytest.fixture(scope="module")
def seeded_chain(tmp_path_factory) -> Iterator[SeededChain]:
    chain = DevChain(tmp_path_factory.mktemp("chain-home"), free_port())
    info, _ = chain.up()
    try:
        manifest = chain.seed(PARAMS)
        addresses = sorted({a.lower() for a, _ in manifest["contracts"].values()})
        yield SeededChain(chain, info.url, manifest["chain"]["head"], info.genesis_time, addresses)
    finally:
        chain.down()
