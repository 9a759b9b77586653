"""Raw logs (and their decoded landing tables), one asset per chain.

Each partition is one contract version x one block range; materializing it fetches the
finalized logs of that contract in that range, decodes them and replaces the partition's
rows in one transaction (``copytrade.indexer.ingest``). RPC-bound steps share a pool per
chain so a backfill of hundreds of partitions does not hammer one endpoint.
"""


from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, MetadataValue, asset

from copytrade.chain.chains import ChainConfig
from copytrade.indexer.ingest import ingest_partition
from copytrade.indexer.ranges import BlockRange
from copytrade.venues.registry import RegistryRow
from orchestration.partitions import BLOCK_RANGE, CONTRACT, raw_logs_partitions
from orchestration.resources import PostgresResource, RpcResource


def raw_logs_asset_name(chain: ChainConfig) -> str:
    return f"raw_logs_{chain.name}"


def rpc_pool(chain: ChainConfig) -> str:
    return f"rpc_{chain.name}"


def build_raw_logs_asset(chain: ChainConfig, rows: list[RegistryRow]) -> AssetsDefinition:
    by_id = {r.contract_id: r for r in rows}

    @asset(
        name=raw_logs_asset_name(chain),
        partitions_def=raw_logs_partitions(chain, list(by_id)),
        pool=rpc_pool(chain),
        group_name="ingestion",
        kinds={"postgres"},
        description=(
            f"Finalized event logs of the {chain.name} contracts in the registry (raw.event_logs,"
            " raw.blocks) and their decoded landing tables (raw.<platform>_<version>__<event>);"
            " undecodable logs go to raw.quarantine with the reason."
        ),
    )
    def raw_logs(context: AssetExecutionContext, postgres: PostgresResource, rpc: RpcResource) -> MaterializeResult:
        keys = context.partition_key.keys_by_dimension
        row = by_id[keys[CONTRACT]]
        rng = BlockRange.parse(keys[BLOCK_RANGE])
        client = rpc.client(chain.chain_id)
        safe_head = client.safe_head(chain.confirmations)
        with postgres.connect() as conn:
            result = ingest_partition(conn, client, row, rng, safe_head)
        if result.quarantined:
            context.log.warning(f"{result.quarantined} logs quarantined: {dict(result.quarantine_reasons)}")
        return MaterializeResult(
            metadata={
                "contract_id": row.contract_id,
                "version": f"{row.platform} {row.version}",
                "blocks_fetched": MetadataValue.text(
                    f"{result.from_block}-{result.to_block}" if result.from_block is not None else result.skipped
                ),
                "safe_head": safe_head,
                "logs": result.logs,
                "decoded": result.decoded,
                "quarantined": result.quarantined,
                "blocks": result.blocks,
                "logs_per_second": round(result.logs_per_second, 1),
                "rpc_requests": client.stats.requests,
                "get_logs_calls": client.stats.get_logs_calls,
                "by_table": MetadataValue.json(dict(result.by_table)),
                "quarantine_reasons": MetadataValue.json(dict(result.quarantine_reasons)),
            }
        )

    return raw_logs
