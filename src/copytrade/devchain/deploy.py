"""Deploy emulator contracts and send ``execute(Op[])`` batches to them."""

from __future__ import annotations

from collections.abc import Sequence

from copytrade.devchain.calldata import op_layout
from copytrade.devchain.rpc import DevRpc
from copytrade.devchain.solidity import artifact

DEPLOY_GAS = 30_000_000
EXECUTE_GAS = 3_000_000_000


def deploy(rpc: DevRpc, name: str, sender: str, constructor_args: bytes = b"") -> str:
    """Deploy artifact ``name`` in its own block; returns the contract address."""
    code = bytes.fromhex(artifact(name)["bytecode"][2:]) + constructor_args
    tx = rpc.send(sender, None, code, DEPLOY_GAS)
    rpc.mine(1)
    receipt = rpc.receipt(tx)
    if receipt is None or int(receipt["status"], 16) != 1:
        raise RuntimeError(f"deploying {name} failed: {receipt}")
    return receipt["contractAddress"].lower()


def execute(rpc: DevRpc, sender: str, address: str, contract: str, ops: Sequence[dict[str, int]]) -> str:
    """Queue one ``execute(ops)`` transaction (mined with the next block); returns its hash."""
    layout = op_layout(contract)
    data = layout.encode([layout.row(**op) for op in ops])
    return rpc.send(sender, address, data, EXECUTE_GAS)
