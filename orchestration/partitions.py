"""Partitions of the raw-logs assets: contract x block range, one definition per chain.

Contract ids are static (the registry); block ranges are dynamic, added by the block-range
sensor as the chain's safe head advances (or by ``copytrade backfill``). Keys look like
``0000100000-0000199999`` so they sort as block numbers do.
"""

from __future__ import annotations

from dagster import (
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
)

from copytrade.chain.chains import ChainConfig

CONTRACT = "contract"
BLOCK_RANGE = "block_range"


def block_ranges(chain: ChainConfig) -> DynamicPartitionsDefinition:
    return DynamicPartitionsDefinition(name=f"block_ranges_{chain.name}")


def raw_logs_partitions(chain: ChainConfig, contract_ids: list[str]) -> MultiPartitionsDefinition:
    return MultiPartitionsDefinition(
        {CONTRACT: StaticPartitionsDefinition(sorted(contract_ids)), BLOCK_RANGE: block_ranges(chain)}
    )


def partition_key(contract_id: str, block_range_key: str) -> MultiPartitionKey:
    return MultiPartitionKey({CONTRACT: contract_id, BLOCK_RANGE: block_range_key})
