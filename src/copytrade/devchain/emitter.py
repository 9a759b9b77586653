"""Put a scenario's steps on chain: one block per batch window, one transaction per batch.

For each block with steps the emitter lets each venue finalize its steps (emission-order
fields), groups the steps by target contract into ``execute(Op[])`` transactions of at most
``max_ops`` ops and sends them in one JSON-RPC batch (explicit nonces: anvil handles a batch
concurrently). The block is mined lazily, together with the empty blocks after it, in one
``anvil_mine(n)`` call when the next block's transactions are due (pending
transactions go into the first block mined), so a block costs two HTTP round trips. Log indices are
computed from the known number of logs per op (the block's logs are numbered across its
transactions in order), so the ledger learns each action's (tx hash, log index) without a
receipt round trip; ``verify`` checks that against the chain.

Admin transactions (gTrade's in-place upgrade to v10 at block ``b``) are mined alone in
block ``b - 1``, which never carries steps: the scenario only uses window-end blocks.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from copytrade.devchain.calldata import op_layout
from copytrade.devchain.deploy import EXECUTE_GAS
from copytrade.devchain.model import Step, Venue
from copytrade.devchain.rpc import DevRpc


@dataclass
class EmitStats:
    blocks: int = 0
    transactions: int = 0
    logs: int = 0
    steps: int = 0


class Emitter:
    def __init__(
        self,
        rpc: DevRpc,
        sender: str,
        venues: list[Venue],
        addresses: dict[str, str],
        block_time: int,
        max_ops: int = 400,
    ) -> None:
        self.rpc = rpc
        self.sender = sender
        self.block_time = block_time
        self.max_ops = max_ops
        self.addresses = addresses
        self.venue_of_key = {key: v for v in venues for key in v.addresses}
        self.admin_blocks = sorted({b for v in venues for b in v.admin_blocks()})
        self.venues = venues
        self.head = rpc.block_number()  # highest block mined or holding pending transactions
        self.mined = self.head
        self.nonce = int(rpc.call("eth_getTransactionCount", sender, "pending"), 16)
        self.stats = EmitStats()

    # -- blocks -----------------------------------------------------------------------------
    def _mine_until(self, block: int) -> None:
        """Mine so that the chain's head is ``block``: the pending block first, then empties."""
        if block > self.mined:
            self.rpc.mine(block - self.mined)
            self.mined = block
            self.head = max(self.head, block)

    def advance_to(self, block: int) -> None:
        """Mine up to ``block - 1``, running any admin transactions due on the way."""
        while self.admin_blocks and self.admin_blocks[0] <= block:
            due = self.admin_blocks.pop(0)
            if due - 1 <= self.head:
                raise RuntimeError(f"admin block {due} is already behind head {self.head}")
            self._mine_until(due - 2)
            calls = [c for v in self.venues for c in v.admin_calls(due)]
            self.rpc.batch([("eth_sendTransaction", [self._tx(to, data)]) for to, data in calls])
            self.head = due - 1
            self._mine_until(due - 1)
        self._mine_until(block - 1)

    def flush(self) -> None:
        """Mine the block holding pending transactions, if any."""
        self._mine_until(self.head)

    def finish(self, last_block: int) -> None:
        """Mine up to ``last_block`` so the scenario's whole span exists on chain."""
        self.advance_to(last_block + 1)
        self._mine_until(last_block)

    def _tx(self, to: str, data: bytes) -> dict:
        tx = {"from": self.sender, "to": to, "data": "0x" + data.hex(), "gas": hex(EXECUTE_GAS),
              "nonce": hex(self.nonce)}
        self.nonce += 1
        return tx

    # -- steps ------------------------------------------------------------------------------
    def emit(self, steps: list[Step]) -> None:
        """Emit steps already sorted by block (and emission order within a block)."""
        start = 0
        while start < len(steps):
            block = steps[start].intent.block
            end = start
            while end < len(steps) and steps[end].intent.block == block:
                end += 1
            self._emit_block(block, steps[start:end])
            start = end

    def _emit_block(self, block: int, steps: list[Step]) -> None:
        if block <= self.head:
            raise RuntimeError(f"steps for block {block} but the chain is already at {self.head}")
        self.advance_to(block)
        by_venue: dict[int, list[Step]] = {}
        for step in steps:
            by_venue.setdefault(id(self.venue_of_key[step.contract_key]), []).append(step)
        for venue_steps in by_venue.values():
            self.venue_of_key[venue_steps[0].contract_key].finalize(venue_steps)

        groups: OrderedDict[tuple[str, str], list[Step]] = OrderedDict()
        for step in steps:
            groups.setdefault((step.contract_key, step.artifact), []).append(step)
        txs: list[tuple[str, str, list[Step]]] = []
        for (key, artifact), group in groups.items():
            chunk: list[Step] = []
            for step in group:
                if len(chunk) >= self.max_ops and not step.shares_anchor:
                    txs.append((key, artifact, chunk))
                    chunk = []
                chunk.append(step)
            txs.append((key, artifact, chunk))

        calls = []
        for key, artifact, chunk in txs:
            layout = op_layout(artifact)
            data = layout.encode([layout.row(**s.op) for s in chunk if not s.shares_anchor])
            calls.append(("eth_sendTransaction", [self._tx(self.addresses[key], data)]))
        hashes = self.rpc.batch(calls)
        self.head = block  # mined by the next _mine_until

        log_index = 0
        for tx_index, ((_, _, chunk), tx_hash) in enumerate(zip(txs, hashes)):
            anchor = None
            for step in chunk:
                if step.shares_anchor:
                    if anchor is None:
                        raise RuntimeError("a step sharing its anchor must follow the step that owns it")
                    step.extra.update(tx_hash=tx_hash, tx_index=tx_index, log_index=anchor)
                    continue
                anchor = log_index + step.anchor
                step.extra.update(tx_hash=tx_hash, tx_index=tx_index, log_index=anchor)
                log_index += step.n_logs
        self.stats.blocks += 1
        self.stats.transactions += len(txs)
        self.stats.logs += log_index
        self.stats.steps += len(steps)

    def verify(self, steps: list[Step], topic0_of_anchor) -> None:
        """Check (tx hash, log index, topic0) of each step's anchor against the receipts."""
        self.flush()
        receipts: dict[str, dict] = {}
        for step in steps:
            tx = step.extra["tx_hash"]
            if tx not in receipts:
                receipts[tx] = self.rpc.receipt(tx)
            receipt = receipts[tx]
            if int(receipt["status"], 16) != 1:
                raise RuntimeError(f"transaction {tx} reverted")
            log = next(lg for lg in receipt["logs"] if int(lg["logIndex"], 16) == step.extra["log_index"])
            expected = topic0_of_anchor(step)
            if expected is not None and log["topics"][0] != expected:
                raise RuntimeError(f"anchor of {step.action} in {tx} is {log['topics'][0]}, expected {expected}")
