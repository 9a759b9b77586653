"""Each venue's staging model reproduces the dev chain's ledger, action by action."""

from __future__ import annotations

import pytest

from tests.dbt.harness import compare, dbt, modeled_actions, truth_actions

VENUES = {
    "gmx_v1": {"gmx"},
    "gmx_v2": {"gmx"},
    "gtrade": {"gtrade"},
    "synthetix_v2": {"synthetix"},
}


@pytest.mark.parametrize("venue", sorted(VENUES))
def test_staging_matches_ledger(pipeline, venue):
    chain, manifest, conn = pipeline
    model = f"stg_{venue}__position_events"
    dbt("build", "--select", f"+{model}", "--indirect-selection", "cautious")
    modeled = modeled_actions(conn, f"staging.{model}")
    truth = truth_actions(chain.ground_truth_dir, VENUES[venue])
    if venue.startswith("gmx"):
        version = "v1" if venue == "gmx_v1" else "v2"
        truth = {k: v for k, v in truth.items() if v["version"] == version}
    assert truth, "the scenario has no actions on this venue"
    problems = compare(truth, modeled)
    assert not problems, "\n".join(problems[:60])
