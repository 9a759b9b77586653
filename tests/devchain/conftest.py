"""A throwaway anvil per test module (fresh chain, free port, stopped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from copytrade.devchain.anvil import Anvil
from copytrade.devchain.rpc import DevRpc
from copytrade.services.process import free_port


@pytest.fixture(scope="module")
def anvil(tmp_path_factory) -> Iterator[DevRpc]:
    """A small anvil that keeps history (so anvil_reorg works); yields its RPC client."""
    node = Anvil(tmp_path_factory.mktemp("anvil"))
    info = node.start(free_port(), keep_history=True)
    rpc = DevRpc(info.url)
    try:
        yield rpc
    finally:
        rpc.close()
        node.stop()


@pytest.fixture(scope="module")
def keeper(anvil: DevRpc) -> str:
    return anvil.accounts()[0]
