"""Reorganize the dev chain, for tests of reorg detection and rollback.

Two ways, because anvil can only ``anvil_reorg`` when it keeps historical states
(``devchain up --keep-history``), which long chains cannot afford:

- :func:`reorg` replaces the last ``depth`` blocks via ``anvil_reorg`` (optionally with
  other transactions); the replaced blocks get new hashes and lose their logs.
- :class:`ForkPoint` takes an ``evm_snapshot``; :meth:`ForkPoint.reorg` reverts to it and
  mines ``blocks`` empty blocks on the normal 12 s grid, so every block after the snapshot
  gets a new hash and its logs are gone. Works on any dev chain.
"""

from __future__ import annotations

from copytrade.devchain.rpc import DevRpc


def block_hashes(rpc: DevRpc, first: int, last: int) -> dict[int, str]:
    blocks = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(first, last + 1)])
    return {int(b["number"], 16): b["hash"] for b in blocks if b is not None}


def reorg(rpc: DevRpc, depth: int, replacement_txs: list[tuple[dict, int]] | None = None) -> None:
    """Replace the last ``depth`` blocks; ``replacement_txs`` are (tx, block offset) pairs."""
    if depth < 1:
        raise ValueError("reorg depth must be at least 1")
    rpc.call("anvil_reorg", depth, [[tx, offset] for tx, offset in (replacement_txs or [])])


class ForkPoint:
    """A point the chain can be rewound to, orphaning everything mined after it."""

    def __init__(self, rpc: DevRpc) -> None:
        self.rpc = rpc
        self.block = rpc.block_number()
        self.snapshot = rpc.call("evm_snapshot")

    def reorg(self, blocks: int) -> list[int]:
        """Revert to the fork point and mine ``blocks`` empty blocks; returns their numbers."""
        if not self.rpc.call("evm_revert", self.snapshot):
            raise RuntimeError(f"evm_revert({self.snapshot}) failed: snapshot already used?")
        self.rpc.mine(blocks)
        return list(range(self.block + 1, self.block + blocks + 1))
