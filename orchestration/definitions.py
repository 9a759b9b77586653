"""The code location ``workspace.yaml`` loads."""

from __future__ import annotations

from dagster import Definitions

from orchestration.resources import default_resources

defs = Definitions(resources=default_resources())
