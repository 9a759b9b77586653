"""Sensors of the raw-logs assets.

- block ranges: as a chain's safe head advances, register the new block-range partitions and
  request the partitions not yet ingested, plus the open (latest) range when the head moved;
- reorgs: compare stored block hashes with the chain; roll back orphaned blocks and request
  the affected partitions again.
"""


from dagster import (
    AddDynamicPartitionsRequest,
    AssetsDefinition,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from copytrade.chain.chains import ChainConfig, NoEndpoint
from copytrade.indexer.health import affected_partitions, reorged_blocks, roll_back_blocks
from copytrade.indexer.ranges import ranges_through
from copytrade.venues.registry import RegistryRow
from orchestration.partitions import block_ranges, partition_key
from orchestration.resources import PostgresResource, RpcResource


def ingested_ranges(postgres: PostgresResource, chain_id: int) -> dict[tuple[str, int], int]:
    """(contract_id, range start) -> highest block ingested in it."""
    with postgres.connect() as conn:
        rows = conn.execute(
            "SELECT contract_id, from_block, to_block FROM raw.ingested_ranges WHERE chain_id = %s", (chain_id,)
        ).fetchall()
    return {(cid, start): end for cid, start, end in rows}


def _client(rpc: RpcResource, chain: ChainConfig):
    """The chain's RPC client, or the reason a sensor must skip (no endpoint configured)."""
    try:
        return rpc.client(chain.chain_id)
    except NoEndpoint as exc:
        return SkipReason(str(exc))


def build_block_range_sensor(chain: ChainConfig, rows: list[RegistryRow], asset: AssetsDefinition):
    dynamic = block_ranges(chain)
    first = min(r.from_block for r in rows)

    @sensor(name=f"block_ranges_{chain.name}", asset_selection=[asset], minimum_interval_seconds=30,
            description=f"Adds {chain.name} block-range partitions as the safe head advances and ingests them.")
    def block_range_sensor(context: SensorEvaluationContext, rpc: RpcResource, postgres: PostgresResource):
        client = _client(rpc, chain)
        if isinstance(client, SkipReason):
            return client
        head = client.safe_head(chain.confirmations)
        known = set(context.instance.get_dynamic_partitions(dynamic.name))
        ranges = ranges_through(head, chain.partition_span, first)
        new = [r.key for r in ranges if r.key not in known]
        done = ingested_ranges(postgres, chain.chain_id)
        requests = []
        for rng in ranges:
            for row in rows:
                span = rng.clamp(row, head)
                if span is None:
                    continue
                ingested_to = done.get((row.contract_id, span[0]))
                if ingested_to is None or ingested_to < span[1]:
                    key = partition_key(row.contract_id, rng.key)
                    requests.append(RunRequest(run_key=f"{key}@{span[1]}", partition_key=key))
        return SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[AddDynamicPartitionsRequest(dynamic.name, new)] if new else [],
            cursor=str(head),
        )

    return block_range_sensor


def build_reorg_sensor(chain: ChainConfig, rows: list[RegistryRow], asset: AssetsDefinition):
    @sensor(name=f"reorgs_{chain.name}", asset_selection=[asset], minimum_interval_seconds=60,
            description=f"Rolls back {chain.name} blocks whose hash changed and re-ingests their partitions.")
    def reorg_sensor(context: SensorEvaluationContext, rpc: RpcResource, postgres: PostgresResource):
        client = _client(rpc, chain)
        if isinstance(client, SkipReason):
            return client
        with postgres.connect() as conn:
            blocks = reorged_blocks(conn, client, chain.chain_id)
            if not blocks:
                return SkipReason("stored block hashes match the chain")
            parts = affected_partitions(conn, chain.chain_id, blocks, chain.partition_span)
            removed = roll_back_blocks(conn, rows, chain.chain_id, blocks)
        context.log.warning(f"reorg: {len(blocks)} blocks from {min(blocks)}, {removed} logs rolled back")
        return SensorResult(run_requests=[
            RunRequest(run_key=f"reorg:{min(blocks)}:{cid}:{key}", partition_key=partition_key(cid, key))
            for cid, key in sorted(parts)
        ])

    return reorg_sensor


def build_dbt_after_ingestion_sensor(raw_logs_keys: list, job):
    """Request a dbt build when any raw-logs partition was materialized since the last one."""

    @sensor(name="dbt_after_ingestion", job=job, minimum_interval_seconds=60,
            description="Runs dbt build after new raw logs landed (any chain, any partition).")
    def dbt_after_ingestion(context: SensorEvaluationContext):
        latest = [context.instance.fetch_materializations(key, limit=1).records for key in raw_logs_keys]
        newest = max((records[0].storage_id for records in latest if records), default=None)
        if newest is None:
            return SkipReason("no raw logs materialized yet")
        if context.cursor and newest <= int(context.cursor):
            return SkipReason(f"nothing new since materialization {context.cursor}")
        return SensorResult(run_requests=[RunRequest(run_key=f"dbt-after-{newest}")], cursor=str(newest))

    return dbt_after_ingestion
