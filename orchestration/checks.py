"""Asset checks of the raw-logs assets (beside the assets they check).

- no coverage gaps per contract between its from_block and the highest block ingested;
- stored block hashes still match the chain (a reorg since ingestion fails this);
- decoded + quarantined = raw, per contract.
"""


from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetsDefinition,
    MetadataValue,
    asset_check,
)

from copytrade.chain.chains import ChainConfig, NoEndpoint
from copytrade.indexer.health import coverage, decode_accounting, missing_partitions, reorged_blocks
from copytrade.venues.registry import RegistryRow
from orchestration.resources import PostgresResource, RpcResource


def build_raw_logs_checks(chain: ChainConfig, rows: list[RegistryRow], asset: AssetsDefinition) -> list[AssetChecksDefinition]:
    @asset_check(asset=asset, name="no_coverage_gaps", blocking=False,
                 description="Every contract is ingested without gaps from its from_block to the highest block ingested.")
    def no_coverage_gaps(postgres: PostgresResource) -> AssetCheckResult:
        report, missing = {}, {}
        with postgres.connect() as conn:
            for row in rows:
                cov = coverage(conn, row)
                report[row.contract_id] = {
                    "ingested_to": cov.ingested_to, "gaps": [f"{a}-{b}" for a, b in cov.gaps],
                }
                if cov.gaps:
                    missing[row.contract_id] = missing_partitions(cov, chain.partition_span)
        return AssetCheckResult(
            passed=not missing,
            severity=AssetCheckSeverity.WARN,
            metadata={"coverage": MetadataValue.json(report), "missing_partitions": MetadataValue.json(missing)},
        )

    @asset_check(asset=asset, name="block_hashes_match_chain", blocking=False,
                 description="The stored hash of every block holding a stored log is still the chain's.")
    def block_hashes_match_chain(postgres: PostgresResource, rpc: RpcResource) -> AssetCheckResult:
        try:
            client = rpc.client(chain.chain_id)
        except NoEndpoint as exc:
            return AssetCheckResult(passed=True, metadata={"skipped": str(exc)})
        with postgres.connect() as conn:
            bad = reorged_blocks(conn, client, chain.chain_id)
        return AssetCheckResult(
            passed=not bad,
            metadata={"reorged_blocks": len(bad), "first": bad[0] if bad else None, "blocks": MetadataValue.json(bad[:100])},
        )

    @asset_check(asset=asset, name="decoded_plus_quarantined_equals_raw", blocking=False,
                 description="Every raw log is in exactly one landing table or in the quarantine.")
    def decoded_plus_quarantined_equals_raw(postgres: PostgresResource) -> AssetCheckResult:
        with postgres.connect() as conn:
            accounts = [decode_accounting(conn, row) for row in rows]
        return AssetCheckResult(
            passed=all(a.ok for a in accounts),
            metadata={
                "raw": sum(a.raw for a in accounts),
                "decoded": sum(a.decoded for a in accounts),
                "quarantined": sum(a.quarantined for a in accounts),
                "by_contract": MetadataValue.json({a.contract_id: [a.raw, a.decoded, a.quarantined] for a in accounts}),
            },
        )

    return [no_coverage_gaps, block_hashes_match_chain, decoded_plus_quarantined_equals_raw]
