"""The raw-logs asset, its checks and sensors, run by a real Dagster instance (in-process)."""

from __future__ import annotations

import os

import dagster as dg
import pytest

from copytrade.chain.chains import chain_config
from copytrade.indexer.ranges import ranges_through
from orchestration.definitions import build_definitions
from orchestration.partitions import block_ranges, partition_key
from orchestration.resources import default_resources
from tests.indexer.conftest import truncate_raw

CHAIN = chain_config(31337)


@pytest.fixture(scope="module")
def instance(stack):
    inst = dg.DagsterInstance.from_config(str(stack.endpoints.paths.dagster_home))
    yield inst
    inst.dispose()


@pytest.fixture(scope="module")
def defs(devchain):
    return build_definitions()


def test_definitions_have_one_partitioned_asset_per_chain(defs):
    asset = defs.get_assets_def(dg.AssetKey("raw_logs_devchain"))
    pdef = asset.partitions_def
    assert isinstance(pdef, dg.MultiPartitionsDefinition)
    assert {d.name for d in pdef.partitions_defs} == {"contract", "block_range"}
    contracts = next(d for d in pdef.partitions_defs if d.name == "contract").partitions_def
    assert "gtrade_v9.devchain.diamond" in contracts.get_partition_keys()
    assert {"raw_logs_arbitrum", "raw_logs_optimism"} <= {k.path[0] for k in defs.resolve_asset_graph().get_all_asset_keys()}
    sensors = {s.name for s in defs.sensors}
    assert {"block_ranges_devchain", "reorgs_devchain"} <= sensors


def test_materialize_partitions_and_checks(defs, instance, db, rpc):
    truncate_raw(db)
    head = rpc.block_number()
    keys = [r.key for r in ranges_through(head, CHAIN.partition_span)]
    instance.add_dynamic_partitions(block_ranges(CHAIN).name, keys)
    asset = defs.get_assets_def(dg.AssetKey("raw_logs_devchain"))
    logs = 0
    for key in keys:
        for contract in ("gmx_v2.devchain.event_emitter", "synthetix_perps_v2.devchain.eth_perp"):
            result = dg.materialize([asset], partition_key=partition_key(contract, key), instance=instance,
                                    resources=default_resources())
            assert result.success
            meta = result.asset_materializations_for_node(asset.op.name)[0].metadata
            assert meta["quarantined"].value == 0
            logs += meta["logs"].value
    assert logs > 0
    stored = db.execute(
        "SELECT count(*) FROM raw.event_logs WHERE contract_id IN ('gmx_v2.devchain.event_emitter', 'synthetix_perps_v2.devchain.eth_perp')"
    ).fetchone()[0]
    assert stored == logs
    # the checks, run by Dagster against what is stored now
    mine = [c for c in defs.asset_checks if all(k.asset_key == asset.key for k in c.check_keys)]
    assert len(mine) == 3
    result = dg.materialize([asset, *mine], selection=dg.AssetSelection.checks_for_assets(asset),
                            instance=instance, resources=default_resources())
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["decoded_plus_quarantined_equals_raw"].passed
    assert evaluations["block_hashes_match_chain"].passed
    # ingested contracts are covered from their first block; the others have nothing yet
    coverage = evaluations["no_coverage_gaps"]
    assert coverage.passed
    report = coverage.metadata["coverage"].value
    assert report["gmx_v2.devchain.event_emitter"]["ingested_to"] == head
    assert report["gmx_v1.devchain.vault"]["ingested_to"] is None


def test_block_range_sensor_registers_partitions_and_requests_runs(defs, instance, db, rpc):
    truncate_raw(db)
    name = block_ranges(CHAIN).name
    for key in instance.get_dynamic_partitions(name):
        instance.delete_dynamic_partition(name, key)
    sensor = next(s for s in defs.sensors if s.name == "block_ranges_devchain")
    with dg.build_sensor_context(instance=instance, resources=default_resources()) as context:
        result = sensor(context)
    head = rpc.block_number()
    expected = [r.key for r in ranges_through(head, CHAIN.partition_span)]
    (request,) = result.dynamic_partitions_requests
    assert list(request.partition_keys) == expected
    requested = {(r.partition_key.keys_by_dimension["contract"], r.partition_key.keys_by_dimension["block_range"]) for r in result.run_requests}
    assert ("gmx_v1.devchain.vault", expected[0]) in requested
    assert ("gtrade_v10.devchain.diamond", expected[-1]) in requested
    assert all(k in expected for _, k in requested)
