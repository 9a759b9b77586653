"""The reorg helpers really orphan blocks: new hashes, logs gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from copytrade.devchain.anvil import Anvil, BLOCK_TIME
from copytrade.devchain.deploy import deploy, execute
from copytrade.devchain.markets import MARKETS
from copytrade.devchain.model import USD_E6, Action, Intent
from copytrade.devchain.reorg import ForkPoint, block_hashes, reorg
from copytrade.devchain.rpc import DevRpc
from copytrade.devchain.venues.gmx_v1 import GmxV1Venue
from copytrade.services.process import free_port


def emit_blocks(rpc: DevRpc, keeper: str, address: str, n: int, genesis: int) -> None:
    venue = GmxV1Venue("k", "arbitrum", genesis)
    for i in range(n):
        pos = venue.open_position("0x" + f"{i + 1:040x}", MARKETS["ETH/USD"], True)
        t = genesis + BLOCK_TIME * (rpc.block_number() + 1)
        steps = pos.apply(Intent(Action.OPEN, t, 0, 3_000 * 10**8, 10_000 * USD_E6, 1_000 * USD_E6))
        execute(rpc, keeper, address, "GmxV1VaultArbitrum", [s.op for s in steps])
        rpc.mine(1)


@pytest.mark.parametrize("keep_history", [True, False])
def test_reorg_orphans_blocks(tmp_path: Path, keep_history: bool):
    node = Anvil(tmp_path)
    info = node.start(free_port(), keep_history=keep_history)
    try:
        with DevRpc(info.url) as rpc:
            keeper = rpc.accounts()[0]
            address = deploy(rpc, "GmxV1VaultArbitrum", keeper)
            fork = ForkPoint(rpc)
            emit_blocks(rpc, keeper, address, 4, info.genesis_time)
            head = rpc.block_number()
            before = block_hashes(rpc, fork.block + 1, head)
            assert len(rpc.get_logs(fork.block + 1, head, address)) == 4 * 3
            if keep_history:
                reorg(rpc, depth=2)
                changed = range(head - 1, head + 1)
            else:
                changed = fork.reorg(head - fork.block)
            after = block_hashes(rpc, fork.block + 1, head)
            assert rpc.block_number() == head
            for n in changed:
                assert after[n] != before[n]
            expected_logs = (4 - len(changed)) * 3
            assert len(rpc.get_logs(fork.block + 1, head, address)) == expected_logs
    finally:
        node.stop()
