"""``copytrade backfill``: the raw-logs materializations, run in-process from the command line.

The same asset code the Dagster UI runs, against the same instance (DAGSTER_HOME), so runs,
materializations and partitions show up in the UI afterwards. Each partition is one run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dagster import AssetKey, DagsterInstance, materialize

from copytrade.chain.chains import NoEndpoint, chain_config
from copytrade.indexer.ranges import BlockRange, ranges_through
from copytrade.venues.registry import Registry, RegistryRow, load_registry
from orchestration.assets.ingestion import raw_logs_asset_name
from orchestration.definitions import build_definitions
from orchestration.partitions import block_ranges, partition_key
from orchestration.resources import RpcResource, default_resources, home


@dataclass
class PlannedPartition:
    chain_id: int
    row: RegistryRow
    rng: BlockRange


@dataclass
class BackfillReport:
    partitions: int = 0
    logs: int = 0
    decoded: int = 0
    quarantined: int = 0
    seconds: float = 0.0
    get_logs_calls: int = 0
    failures: list[str] = field(default_factory=list)


def plan(
    registry: Registry,
    contract_id: str | None = None,
    from_block: int | None = None,
    to_block: int | None = None,
    skipped: list[str] | None = None,
) -> list[PlannedPartition]:
    """The partitions to materialize: every range of each selected contract up to the safe head.

    Without ``contract_id``, chains with no RPC endpoint configured are left out (and named
    in ``skipped``); with it, a missing endpoint is an error.
    """
    rows = [registry.get(contract_id)] if contract_id else list(registry.rows)
    rpc = RpcResource()
    planned = []
    for chain_id in sorted({r.chain_id for r in rows}):
        chain = chain_config(chain_id)
        try:
            client = rpc.client(chain_id)
        except NoEndpoint as exc:
            if contract_id:
                raise
            if skipped is not None:
                skipped.append(str(exc))
            continue
        head = client.safe_head(chain.confirmations)
        chain_rows = [r for r in rows if r.chain_id == chain_id]
        first = max(from_block or 0, min(r.from_block for r in chain_rows))
        last = min(to_block, head) if to_block is not None else head
        for rng in ranges_through(last, chain.partition_span, first):
            for row in chain_rows:
                if rng.clamp(row, last) is not None:
                    planned.append(PlannedPartition(chain_id, row, rng))
    return planned


def run(
    planned: list[PlannedPartition],
    instance: DagsterInstance | None = None,
    on_partition: Callable[[PlannedPartition, dict], None] | None = None,
) -> BackfillReport:
    """Materialize the planned partitions one run each; returns totals from their metadata."""
    instance = instance or DagsterInstance.get()
    defs = build_definitions()
    resources = default_resources()
    report = BackfillReport()
    for chain_id in sorted({p.chain_id for p in planned}):
        chain = chain_config(chain_id)
        keys = sorted({p.rng.key for p in planned if p.chain_id == chain_id})
        known = set(instance.get_dynamic_partitions(block_ranges(chain).name))
        missing = [k for k in keys if k not in known]
        if missing:
            instance.add_dynamic_partitions(block_ranges(chain).name, missing)
    for part in planned:
        chain = chain_config(part.chain_id)
        asset = defs.get_assets_def(AssetKey(raw_logs_asset_name(chain)))
        result = materialize(
            [asset], partition_key=partition_key(part.row.contract_id, part.rng.key),
            instance=instance, resources=resources, raise_on_error=False,
            tags={"copytrade/source": "cli-backfill"},
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        report.partitions += 1
        if not result.success:
            failure = next((e for e in result.all_events if e.is_step_failure), None)
            message = failure.event_specific_data.error.message.strip() if failure else "run failed"
            report.failures.append(f"{part.row.contract_id} {part.rng.key}: {message}")
            continue
        meta = {
            k: v.value for k, v in result.asset_materializations_for_node(asset.op.name)[0].metadata.items()
        }
        report.logs += meta["logs"]
        report.decoded += meta["decoded"]
        report.quarantined += meta["quarantined"]
        report.get_logs_calls += meta["get_logs_calls"]
        if on_partition:
            on_partition(part, meta)
    return report


def run_dbt(instance: DagsterInstance | None = None, full_refresh: bool = False) -> bool:
    """``dbt build`` of every model, in-process, as the ``dbt_build`` job would; True on success."""
    from orchestration.assets.dbt import dbt_models, dbt_resource

    result = materialize(
        [dbt_models], instance=instance or DagsterInstance.get(), resources={"dbt": dbt_resource()},
        raise_on_error=False, tags={"copytrade/source": "cli-backfill"},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}},
                    "ops": {dbt_models.op.name: {"config": {"full_refresh": full_refresh}}}},
    )
    return result.success


def backfill(contract_id: str | None = None, from_block: int | None = None, to_block: int | None = None,
             on_partition: Callable[[PlannedPartition, dict], None] | None = None) -> BackfillReport:
    return run(plan(load_registry(home()), contract_id, from_block, to_block), on_partition=on_partition)
