"""Raw logs as they come from ``eth_getLogs``, held column by column.

Decoders work on many logs of one event signature at once (numpy for static layouts), so a
batch keeps each field as one list or array instead of one object per log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np


class MalformedLog(ValueError):
    """A log object from the RPC lacks a field or has one that does not parse."""


@dataclass
class LogBatch:
    chain_id: int
    address: list[str] = field(default_factory=list)  # 0x-prefixed, lower case
    topics: list[list[str]] = field(default_factory=list)  # 0x-prefixed 32-byte hex, as received
    data: list[bytes] = field(default_factory=list)
    block_number: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    block_hash: list[str] = field(default_factory=list)
    tx_hash: list[str] = field(default_factory=list)
    tx_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    log_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.address)

    @property
    def topic0(self) -> list[str | None]:
        return [t[0] if t else None for t in self.topics]

    def take(self, rows: Sequence[int] | np.ndarray) -> LogBatch:
        """The logs at ``rows``, in that order."""
        idx = np.asarray(rows, dtype=np.int64)
        pick = idx.tolist()
        return LogBatch(
            chain_id=self.chain_id,
            address=[self.address[i] for i in pick],
            topics=[self.topics[i] for i in pick],
            data=[self.data[i] for i in pick],
            block_number=self.block_number[idx],
            block_hash=[self.block_hash[i] for i in pick],
            tx_hash=[self.tx_hash[i] for i in pick],
            tx_index=self.tx_index[idx],
            log_index=self.log_index[idx],
        )

    @classmethod
    def concat(cls, chain_id: int, batches: Iterable[LogBatch]) -> LogBatch:
        out = cls(chain_id)
        parts = list(batches)
        for b in parts:
            out.address += b.address
            out.topics += b.topics
            out.data += b.data
            out.block_hash += b.block_hash
            out.tx_hash += b.tx_hash
        if parts:
            out.block_number = np.concatenate([b.block_number for b in parts])
            out.tx_index = np.concatenate([b.tx_index for b in parts])
            out.log_index = np.concatenate([b.log_index for b in parts])
        return out

    @classmethod
    def from_rpc(cls, chain_id: int, items: Sequence[dict]) -> LogBatch:
        """From the JSON objects of an ``eth_getLogs`` result; refuses malformed ones."""
        n = len(items)
        batch = cls(chain_id)
        block_number = np.empty(n, np.int64)
        tx_index = np.empty(n, np.int64)
        log_index = np.empty(n, np.int64)
        address, topics, data, block_hash, tx_hash = [], [], [], [], []
        try:
            for i, item in enumerate(items):
                address.append(item["address"].lower())
                topics.append(item["topics"])
                raw = item["data"]
                data.append(bytes.fromhex(raw[2:]) if len(raw) > 2 else b"")
                block_number[i] = int(item["blockNumber"], 16)
                block_hash.append(item["blockHash"])
                tx_hash.append(item["transactionHash"])
                tx_index[i] = int(item["transactionIndex"], 16)
                log_index[i] = int(item["logIndex"], 16)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MalformedLog(f"log #{len(address)} of the response: {exc!r}") from exc
        batch.address, batch.topics, batch.data = address, topics, data
        batch.block_hash, batch.tx_hash = block_hash, tx_hash
        batch.block_number, batch.tx_index, batch.log_index = block_number, tx_index, log_index
        return batch


@dataclass(frozen=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str
    timestamp: int
