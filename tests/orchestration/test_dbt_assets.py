"""dbt models in the Dagster graph: lineage from raw logs, and the after-ingestion sensor."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.partitions import block_ranges, partition_key
from orchestration.resources import default_resources
from copytrade.chain.chains import chain_config
from copytrade.indexer.ranges import ranges_through

CHAIN = chain_config(31337)


@pytest.fixture(scope="module")
def defs(devchain):
    return build_definitions()


def test_lineage_raw_logs_to_marts(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"analytics/{m}" for m in ("perp_trading_event_log", "positions", "pnl_snapshot_v2", "leaderboard")} <= keys
    landing = dg.AssetKey(["gmx_v1", "gmx_v1__increase_position"])
    assert dg.AssetKey("raw_logs_devchain") in graph.get(landing).parent_keys
    staging = dg.AssetKey(["staging", "stg_gmx_v1__increase_position"])
    assert landing in graph.get(staging).parent_keys
    assert dg.AssetKey(["analytics", "perp_trading_event_log"]) in graph.get(dg.AssetKey(["analytics", "positions"])).parent_keys
    assert defs.resolve_job_def("dbt_build") is not None


def test_sensor_requests_dbt_after_new_raw_logs(defs, stack, rpc):
    instance = dg.DagsterInstance.from_config(str(stack.endpoints.paths.dagster_home))
    try:
        sensor = next(s for s in defs.sensors if s.name == "dbt_after_ingestion")
        key = ranges_through(rpc.block_number(), CHAIN.partition_span)[0].key
        instance.add_dynamic_partitions(block_ranges(CHAIN).name, [key])
        asset = defs.get_assets_def(dg.AssetKey("raw_logs_devchain"))
        assert dg.materialize([asset], partition_key=partition_key("gmx_v2.devchain.event_emitter", key),
                              instance=instance, resources=default_resources()).success
        with dg.build_sensor_context(instance=instance) as context:
            first = sensor(context)
            assert len(first.run_requests) == 1
            cursor = first.cursor
        with dg.build_sensor_context(instance=instance, cursor=cursor) as context:
            again = sensor(context)
        assert isinstance(again, dg.SkipReason) or not getattr(again, "run_requests", [])
    finally:
        instance.dispose()
