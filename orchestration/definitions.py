"""The code location ``workspace.yaml`` loads: one raw-logs asset (+ checks and sensors) per
chain of the contract registry."""

from __future__ import annotations

from collections import defaultdict

from dagster import Definitions

from copytrade.chain.chains import chain_config
from copytrade.venues.registry import load_registry
from orchestration.assets.ingestion import build_raw_logs_asset
from orchestration.checks import build_raw_logs_checks
from orchestration.resources import default_resources, home
from orchestration.sensors import build_block_range_sensor, build_reorg_sensor


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
    return Definitions(assets=assets, asset_checks=checks, sensors=sensors, resources=default_resources())


defs = build_definitions()
