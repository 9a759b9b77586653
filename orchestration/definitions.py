"""The code location ``workspace.yaml`` loads: one raw-logs asset (+ checks and sensors) per
chain of the contract registry, the landing tables, the dbt models after them, and the
copy-trading simulations (one dynamic partition per stored simulation)."""

from __future__ import annotations

from collections import defaultdict

from dagster import Definitions

from copytrade.chain.chains import chain_config
from copytrade.venues.registry import load_registry
from orchestration.assets.dbt import dbt_build_job, dbt_models, dbt_resource, landing_specs
from orchestration.assets.ingestion import build_raw_logs_asset
from orchestration.assets.simulations import simulation_results
from orchestration.checks import build_raw_logs_checks
from orchestration.resources import default_resources, home
from orchestration.sensors import (
    build_block_range_sensor,
    build_dbt_after_ingestion_sensor,
    build_reorg_sensor,
)


def build_definitions() -> Definitions:
    registry = load_registry(home())
    by_chain = defaultdict(list)
    for row in registry.rows:
        by_chain[row.chain_id].append(row)
    assets, checks, sensors = [], [], []
    for chain_id, rows in sorted(by_chain.items()):
        chain = chain_config(chain_id)
        asset = build_raw_logs_asset(chain, rows)
        assets.append(asset)
        checks += build_raw_logs_checks(chain, rows, asset)
        sensors += [build_block_range_sensor(chain, rows, asset), build_reorg_sensor(chain, rows, asset)]
    raw_keys = [a.key for a in assets]
    sensors.append(build_dbt_after_ingestion_sensor(raw_keys, dbt_build_job))
    return Definitions(
        assets=[*assets, *landing_specs(raw_keys), dbt_models, simulation_results],
        asset_checks=checks,
        jobs=[dbt_build_job],
        sensors=sensors,
        resources={**default_resources(), "dbt": dbt_resource()},
    )


defs = build_definitions()
