"""Per-chain settings: partition span, finality, and where the RPC endpoint is.

Endpoints come from ``RPC_URL_<CHAIN_ID>`` (DESIGN.md §2). The dev chain (31337) falls back
to the anvil that ``copytrade devchain up`` started under ``COPYTRADE_HOME``. Spans and
confirmation depths can be overridden with ``COPYTRADE_PARTITION_SPAN_<CHAIN_ID>`` and
``COPYTRADE_CONFIRMATIONS_<CHAIN_ID>``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path



class NoEndpoint(RuntimeError):
    pass


@dataclass(frozen=True)
class ChainConfig:
    chain_id: int
    name: str
    partition_span: int  # blocks per block-range partition
    confirmations: int  # depth below head considered final when there is no finalized tag
    use_finalized_tag: bool = True


DEFAULTS = {
    c.chain_id: c
    for c in (
        ChainConfig(42161, "arbitrum", 5_000_000, 0),  # the finalized tag follows L1 finality
        ChainConfig(43114, "avalanche", 1_000_000, 0),  # single-slot finality
        ChainConfig(137, "polygon", 1_000_000, 128),
        ChainConfig(8453, "base", 1_000_000, 0),
        ChainConfig(10, "optimism", 2_000_000, 0),
        ChainConfig(1, "ethereum", 250_000, 64),
        # anvil answers "finalized" with head - 64 but accepts reorgs deeper than that: nothing
        # is final there, so ingest to the head and rely on the reorg check
        ChainConfig(31337, "devchain", 100_000, 0, use_finalized_tag=False),
    )
}


def chain_config(chain_id: int) -> ChainConfig:
    base = DEFAULTS.get(chain_id) or ChainConfig(chain_id, f"chain_{chain_id}", 1_000_000, 64)
    span = os.environ.get(f"COPYTRADE_PARTITION_SPAN_{chain_id}")
    depth = os.environ.get(f"COPYTRADE_CONFIRMATIONS_{chain_id}")
    if span:
        base = replace(base, partition_span=int(span))
    if depth:
        base = replace(base, confirmations=int(depth))
    if base.partition_span < 1 or base.confirmations < 0:
        raise ValueError(f"chain {chain_id}: partition span must be >= 1 and confirmations >= 0")
    return base


def rpc_url(chain_id: int, home: Path | None = None) -> str:
    """The endpoint for ``chain_id``; raises :class:`NoEndpoint` naming the variable to set."""
    url = os.environ.get(f"RPC_URL_{chain_id}")
    if url:
        return url
    if chain_id == 31337 and home is not None:
        try:
            info = json.loads((home / "devchain" / "anvil.json").read_text())
            return f"http://127.0.0.1:{info['port']}"
        except (FileNotFoundError, KeyError, ValueError):
            pass
    hint = " or run `copytrade devchain up`" if chain_id == 31337 else ""
    raise NoEndpoint(f"no RPC endpoint for chain {chain_id}: set RPC_URL_{chain_id}{hint}")

