"""The dbt models as Dagster assets (dagster-dbt), downstream of the landing tables.

dbt sources are the landing tables in ``raw``; each gets an (unmaterializable) asset spec
that depends on every chain's raw-logs asset, so the lineage reads
``raw_logs_<chain> -> <landing table> -> staging -> marts``. ``dbt_build`` runs after
ingestion: the sensor in ``orchestration.sensors`` requests it when a raw-logs partition has
been materialized since its last run, and ``copytrade backfill`` runs it in-process.
"""

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Config, define_asset_job
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from copytrade.config import dbt_environ, find_project_root
from copytrade.services.dagster_home import venv_bin

DBT_DIR = find_project_root(Path(__file__).parent) / "dbt_project"
project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def ensure_manifest() -> Path:
    """``dbt parse`` when there is no manifest yet (a fresh clone): definitions need one."""
    if not project.manifest_path.exists():
        env = {**os.environ, **(dbt_environ(os.environ["DATABASE_URL"]) if "DATABASE_URL" in os.environ else {})}
        result = subprocess.run(
            [venv_bin("dbt"), "parse", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
            env=env, cwd=DBT_DIR, capture_output=True, text=True, timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{result.stdout[-3000:]}")
    return project.manifest_path


class Translator(DagsterDbtTranslator):
    """Landing tables keep their dbt source key; models get the ``dbt`` group."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "landing"
        return "dbt_" + dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "dbt"


def landing_specs(raw_logs_keys: list[AssetKey]) -> list[AssetSpec]:
    """One spec per dbt source table of schema raw, fed by every chain's raw-logs asset."""
    import json

    manifest = json.loads(ensure_manifest().read_text())
    specs = []
    translator = Translator()
    for source in manifest["sources"].values():
        if source["schema"] != "raw":
            continue
        key = translator.get_asset_key(source)
        specs.append(AssetSpec(
            key=key, deps=raw_logs_keys, group_name="landing", kinds={"postgres"},
            description=f"raw.{source['name']}: {source.get('description') or 'landing table'}",
        ))
    return specs


if "DATABASE_URL" in os.environ:  # the dbt subprocesses read their profile from these
    os.environ.update(dbt_environ(os.environ["DATABASE_URL"]))
ensure_manifest()


class DbtBuildConfig(Config):
    """``full_refresh``: rebuild the incremental models from scratch (after a model's columns
    changed, or when the raw data of a chain was replaced wholesale)."""

    full_refresh: bool = False


@dbt_assets(manifest=project.manifest_path, dagster_dbt_translator=Translator())
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
    yield from dbt.cli(args, context=context).stream()


dbt_build_job = define_asset_job("dbt_build", selection=[dbt_models], description="dbt build of every model (after ingestion).")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=project, profiles_dir=str(DBT_DIR), dbt_executable=venv_bin("dbt"))
