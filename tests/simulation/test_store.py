"""Stored simulations against the real marts: inputs hashed and checked before anything is
written, outputs replaced in one transaction, the Dagster asset and the CLI on top."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, timedelta
from pathlib import Path

import dagster as dg
import pytest

from copytrade.simulation.data import UnknownLeader
from copytrade.simulation.settings import CopySettings
from copytrade.simulation.store import (
    EmptyWindow,
    InvalidRequest,
    create_simulation,
    fetch_plans,
    fetch_simulation,
    input_hash,
    load_request,
    make_request,
    run_simulation,
    simulation_id,
)
from orchestration.assets.simulations import (
    request_simulation,
    simulation_results,
    simulations_partitions,
)
from orchestration.resources import default_resources
from tests.conftest import ROOT
from tests.dbt.conftest import pipeline  # noqa: F401  (module-scoped: seeded, ingested, dbt seeds)
from tests.dbt.harness import dbt

CLI = str(Path(sys.executable).parent / "copytrade")
OUTPUTS = ("simulation_plans", "simulation_bots", "simulation_equity")


@pytest.fixture(scope="module")
def marts(pipeline):  # noqa: F811
    """The connection, once the marts are built from the seeded chain and no simulation is stored."""
    _, _, conn = pipeline
    dbt("build", "--full-refresh", "--exclude", "test_type:unit")
    conn.execute("delete from app.simulations")
    return conn


@pytest.fixture(scope="module")
def window(marts):
    """The two most active traders and the whole data window [first event, last event + 1 s)."""
    leaders = [r[0] for r in marts.execute(
        "select trader from analytics.perp_trading_event_log where action = 'OPEN'"
        " group by trader order by count(*) desc, trader limit 2")]
    first, last = marts.execute("select min(block_time), max(block_time) from analytics.perp_trading_event_log").fetchone()
    return leaders, first, last + timedelta(seconds=1)


def request(window, **overrides):
    leaders, start, end = window
    fields = {"leaders": leaders, "start": start, "end": end,
              "settings": [CopySettings(), CopySettings(sizing="fixed", fixed_collateral_usd=250, leverage="fixed")]}
    return make_request(**{**fields, **overrides})


def outputs(conn, sid: str) -> dict[str, list[tuple]]:
    """Every output row of a simulation, in key order."""
    keys = {"simulation_plans": "variant", "simulation_bots": "variant, leader",
            "simulation_equity": "variant, leader, time"}
    return {t: conn.execute(f"select * from app.{t} where simulation_id = %s order by {keys[t]}", (sid,)).fetchall()
            for t in OUTPUTS}


def simulations_count(conn) -> int:
    return conn.execute("select count(*) from app.simulations").fetchone()[0]


def test_run_writes_plans_bots_and_equity(marts, window):
    req = request(window)
    sid = create_simulation(marts, req)
    assert sid.startswith("sim_") and len(sid) == 20
    assert fetch_simulation(marts, sid)["status"] == "pending"
    plans = run_simulation(marts, sid)

    sim = fetch_simulation(marts, sid)
    assert (sim["status"], sim["progress"], sim["error"]) == ("done", 1.0, None) and sim["finished_at"]
    rows = outputs(marts, sid)
    assert len(rows["simulation_plans"]) == 2 and len(rows["simulation_bots"]) == 2 * len(req.leaders)
    stored = {r["variant"]: r for r in fetch_plans(marts, sid)}
    for v, plan in enumerate(plans):
        assert stored[v]["net_pnl"] == pytest.approx(plan.metrics.net_pnl)
        assert stored[v]["trades"] == plan.metrics.trades and plan.metrics.trades > 0
        assert stored[v]["metrics"]["positions"] == plan.metrics.positions
    best = max(stored.values(), key=lambda r: r["net_pnl"])
    assert best["rank"] == 1 and sorted(r["rank"] for r in stored.values()) == [1, 2]
    curves = dict(marts.execute(
        "select leader, count(*) from app.simulation_equity where simulation_id = %s and variant = 0 group by leader",
        (sid,)).fetchall())
    assert set(curves) == {"", *req.leaders} and min(curves.values()) > 10
    assert curves[""] == len(plans[0].equity_curve)


def test_rerun_gives_identical_rows(marts, window):
    sid = create_simulation(marts, request(window))
    run_simulation(marts, sid)
    first = outputs(marts, sid)
    run_simulation(marts, sid)
    assert outputs(marts, sid) == first
    assert all(first.values())


def test_same_inputs_same_id(marts, window):
    leaders, start, end = window
    req = request(window)
    before = simulations_count(marts)
    sid = create_simulation(marts, req)
    assert create_simulation(marts, req) == sid
    # the same inputs spelled differently: leaders upper-cased and reversed, naive UTC times
    respelled = request(window, leaders=[x.upper() for x in reversed(leaders)],
                        start=start.astimezone(UTC).replace(tzinfo=None), end=end.astimezone(UTC).replace(tzinfo=None))
    assert simulation_id(respelled) == sid and create_simulation(marts, respelled) == sid
    assert simulations_count(marts) <= before + 1
    # what is stored hashes back to the same id
    assert input_hash(load_request(marts, sid)) == fetch_simulation(marts, sid)["input_hash"] == input_hash(req)
    assert simulation_id(request(window, settings=[CopySettings(ratio=0.5)])) != sid


@pytest.mark.parametrize("overrides, field", [
    ({"end_before_start": True}, "end"),
    ({"settings": [{"sizing": "fixed", "fixed_collateral_usd": -10}]}, "fixed_collateral_usd"),
    ({"settings": [{"max_leverage": 500}]}, "max_leverage"),
    ({"settings": [{"leverage": "fixed", "fixed_leverage": 50, "max_leverage": 20}]}, "fixed_leverage"),
    ({"leaders": []}, "leaders"),
])
def test_invalid_inputs_refused_naming_the_field(marts, window, overrides, field):
    _, start, end = window
    if overrides.pop("end_before_start", False):
        overrides = {"start": end, "end": start}
    with pytest.raises(InvalidRequest, match=field) as caught:
        request(window, **overrides)
    assert any(field in where or field in what for where, what in caught.value.problems)


def test_unknown_leader_and_empty_window_refused_before_writing(marts, window):
    leaders, _, end = window
    before = simulations_count(marts)
    with pytest.raises(UnknownLeader, match="leaders: .*0x00000000000000000000000000000000000000aa"):
        create_simulation(marts, request(window, leaders=[leaders[0], "0x00000000000000000000000000000000000000AA"]))
    with pytest.raises(EmptyWindow, match="start/end: .*nothing to copy"):
        create_simulation(marts, request(window, start=end + timedelta(days=1), end=end + timedelta(days=2)))
    assert simulations_count(marts) == before


def test_failed_run_records_the_error(marts, window):
    """A stored simulation whose inputs no longer run (here: stored directly, bypassing the
    checks) is marked failed with the message, and the error propagates."""
    end = window[2]
    req = request(window, start=end + timedelta(days=1), end=end + timedelta(days=2))
    sid = simulation_id(req)
    marts.execute(
        "insert into app.simulations (simulation_id, platform, window_start, window_end, leaders, settings, input_hash)"
        " values (%s, null, %s, %s, %s, '[{}]'::jsonb, %s) on conflict do nothing",
        (sid, req.start, req.end, req.leaders, input_hash(req)),
    )
    with pytest.raises(EmptyWindow):
        run_simulation(marts, sid)
    sim = fetch_simulation(marts, sid)
    assert sim["status"] == "failed" and "nothing to copy" in sim["error"] and sim["finished_at"]
    assert not any(outputs(marts, sid).values())


def test_dagster_asset_materializes_a_partition(marts, window, stack):
    from orchestration.definitions import build_definitions

    assert build_definitions().resolve_assets_def("simulation_results").partitions_def == simulations_partitions
    instance = dg.DagsterInstance.from_config(str(stack.endpoints.paths.dagster_home))
    try:
        sid = request_simulation(instance, marts, request(window, settings=[CopySettings(copy_delay_seconds=60)]))
        assert sid in instance.get_dynamic_partitions(simulations_partitions.name)
        assert request_simulation(instance, marts, request(window, settings=[CopySettings(copy_delay_seconds=60)])) == sid
        result = dg.materialize([simulation_results], partition_key=sid, instance=instance,
                                resources=default_resources())
        assert result.success
        meta = result.asset_materializations_for_node("simulation_results")[0].metadata
        stored = marts.execute("select net_pnl, trades from app.simulation_plans where simulation_id = %s",
                               (sid,)).fetchone()
        assert meta["net_pnl"].value == pytest.approx(stored[0], abs=0.01)
        assert meta["trades"].value == stored[1] and meta["variants"].value == 1
        assert "| time (UTC) | equity (USD) |" in meta["equity_curve"].value
        assert fetch_simulation(marts, sid)["status"] == "done"
    finally:
        instance.dispose()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "simulate", *args], check=False, env={**os.environ, "COLUMNS": "200"}, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_cli_simulate_prints_the_table(marts, window):
    leaders, start, end = window
    result = run_cli("--leaders", ",".join(leaders), "--from", start.isoformat(), "--to", end.isoformat(),
                     "--sizing", "fixed", "--fixed-collateral", "300", "--slippage-bps", "5")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Simulation sim_" in result.stdout and "net PnL" in result.stdout
    for leader in leaders:
        assert leader in result.stdout
    sid = result.stdout.split("Simulation ", 1)[1].split(":", 1)[0]
    assert fetch_simulation(marts, sid)["status"] == "done"


@pytest.mark.parametrize("args, field", [
    (["--fixed-collateral", "-5"], "fixed_collateral_usd (--fixed-collateral)"),
    (["--max-leverage", "500"], "max_leverage (--max-leverage)"),
    (["--swap-window"], "end (--to)"),
    (["--leaders", "0x00000000000000000000000000000000000000aa"], "leaders"),
])
def test_cli_refuses_bad_input(marts, window, args, field):
    leaders, start, end = window
    window_args = ["--from", start.isoformat(), "--to", end.isoformat()]
    if args == ["--swap-window"]:
        args, window_args = [], ["--from", end.isoformat(), "--to", start.isoformat()]
    if "--leaders" not in args:
        args = ["--leaders", ",".join(leaders), *args]
    before = simulations_count(marts)
    result = run_cli(*window_args, *args)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    message = " ".join(result.stderr.split())
    assert message.startswith("error:") and field in message
    assert simulations_count(marts) == before


def test_cli_auto_selects_leaders_before_the_window(marts, window):
    _, start, end = window
    middle = start + (end - start) / 2
    result = run_cli("--auto", "--platform", "gmx", "--auto-count", "2", "--lookback-days", "2",
                     "--from", middle.isoformat(), "--to", end.isoformat())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "auto selection: " in result.stdout and "Simulation sim_" in result.stdout
    sid = result.stdout.split("Simulation ", 1)[1].split(":", 1)[0]
    sim = fetch_simulation(marts, sid)
    assert sim["kind"] == "auto" and sim["platform"] == "gmx" and 1 <= len(sim["leaders"]) <= 2
    bad = run_cli("--auto", "--from", middle.isoformat(), "--to", end.isoformat(), "--min-r2", "2")
    message = " ".join(bad.stderr.split())
    assert bad.returncode == 1 and "platform (--platform)" in message and "min_r2 (--min-r2)" in message


def test_cli_grid_stores_and_ranks_every_variant(marts, window):
    leaders, start, end = window
    result = run_cli("--leaders", ",".join(leaders), "--from", start.isoformat(), "--to", end.isoformat(),
                     "--sizing", "fixed", "--grid", "stop_loss_pct=10:30:10", "--grid", "fixed_collateral_usd=100:200:100")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sid = result.stdout.split("Simulation ", 1)[1].split(":", 1)[0]
    plans = marts.execute("select variant, rank, net_pnl, settings from app.simulation_plans"
                          " where simulation_id = %s order by rank", (sid,)).fetchall()
    assert len(plans) == 6
    assert [p[1] for p in plans] == list(range(1, 7))
    assert all(a[2] >= b[2] for a, b in zip(plans, plans[1:]))
    assert {(p[3]["stop_loss_pct"], p[3]["fixed_collateral_usd"]) for p in plans} == {
        (sl, c) for sl in (10.0, 20.0, 30.0) for c in (100.0, 200.0)}
    assert "stop_loss_pct=" in result.stdout
    bad = run_cli("--leaders", ",".join(leaders), "--from", start.isoformat(), "--to", end.isoformat(),
                  "--grid", "no_such_field=1:2:1")
    assert bad.returncode == 1 and "grid" in bad.stderr and "no_such_field" in bad.stderr


def test_cli_walk_forward_selects_per_window(marts, window):
    _, start, end = window
    result = run_cli("--auto", "--platform", "gmx", "--auto-count", "2", "--lookback-days", "1",
                     "--walk-forward", "1", "--from", start.isoformat(), "--to", end.isoformat())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Walk-forward on gmx" in result.stdout and "net PnL over all windows" in result.stdout
    # the first window has no data before it to choose from
    assert "skipped" in result.stdout
    bad = run_cli("--walk-forward", "1", "--leaders", "0x" + "aa" * 20, "--from", start.isoformat(),
                  "--to", end.isoformat())
    assert bad.returncode == 1 and "walk_forward (--walk-forward)" in " ".join(bad.stderr.split())
