"""The two ways a data engineer backfills: `copytrade backfill` and the Dagster UI's GraphQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import httpx
import pytest

from copytrade.chain.chains import chain_config
from copytrade.indexer.ranges import ranges_through
from copytrade.services.dagster_home import venv_bin
from copytrade.services.process import free_port
from orchestration.partitions import block_ranges, partition_key
from tests.conftest import ROOT
from tests.indexer.conftest import truncate_raw

CHAIN = chain_config(31337)
CLI = str(Path(sys.executable).parent / "copytrade")


def stored_by_contract(db) -> dict[str, int]:
    return dict(db.execute("SELECT contract_id, count(*) FROM raw.event_logs GROUP BY 1").fetchall())


def test_cli_backfill_one_contract(db, rpc, rows, devchain):
    truncate_raw(db)
    result = subprocess.run([CLI, "backfill", "--contract", "gmx_v1.devchain.vault"], env={**os.environ, "COLUMNS": "200"},
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    row = next(r for r in rows if r.contract_id == "gmx_v1.devchain.vault")
    on_chain = len(rpc.get_logs(row.address, row.from_block, rpc.block_number()))
    assert stored_by_contract(db) == {"gmx_v1.devchain.vault": on_chain}
    assert f"{on_chain:,} logs" in result.stdout
    bad = subprocess.run([CLI, "backfill", "--contract", "no.such.contract"], env=os.environ, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "no.such.contract" in bad.stderr + bad.stdout


@pytest.fixture
def dagster_webserver(stack):
    port = free_port()
    proc = subprocess.Popen(
        ["env", "--default-signal=INT,QUIT,TERM", venv_bin("dagster"), "dev", "-h", "127.0.0.1", "-p", str(port),
         "-w", str(ROOT / "workspace.yaml")],
        env={**os.environ, **stack.endpoints.environ()}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.post(url, json={"query": "{ version }"}, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, "dagster dev exited"
            time.sleep(1)
        else:
            raise TimeoutError("dagster dev did not answer within 180 s")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}"""
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status numPartitions }
    ... on PythonError { message }
  }
}"""


def test_backfill_launched_from_the_webserver_graphql(db, rpc, rows, devchain, stack, dagster_webserver):
    """The path of the UI's Materialize/Backfill button, end to end."""
    truncate_raw(db)
    head = rpc.block_number()
    keys = [r.key for r in ranges_through(head, CHAIN.partition_span)]
    instance = dg.DagsterInstance.from_config(str(stack.endpoints.paths.dagster_home))
    try:
        instance.add_dynamic_partitions(block_ranges(CHAIN).name, keys)
    finally:
        instance.dispose()
    contracts = ["gmx_v2.devchain.event_emitter", "gtrade_v9.devchain.diamond", "synthetix_perps_v2.devchain.btc_perp"]
    partitions = [str(partition_key(c, k)) for c in contracts for k in keys]
    params = {"partitionNames": partitions, "assetSelection": [{"path": ["raw_logs_devchain"]}], "fromFailure": False}
    launched = httpx.post(dagster_webserver, json={"query": LAUNCH, "variables": {"params": params}}, timeout=60).json()
    answer = launched["data"]["launchPartitionBackfill"]
    assert answer["__typename"] == "LaunchBackfillSuccess", answer
    deadline = time.monotonic() + 300
    status = None
    while time.monotonic() < deadline:
        status = httpx.post(dagster_webserver, json={"query": STATUS, "variables": {"id": answer["backfillId"]}},
                            timeout=30).json()["data"]["partitionBackfillOrError"]
        if status.get("status") in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
            break
        time.sleep(2)
    assert status and status["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), status
    assert status["numPartitions"] == len(partitions)
    stored = stored_by_contract(db)
    expected = {}
    for row in rows:
        if row.contract_id in contracts:
            end = head if row.to_block is None else min(head, row.to_block)
            expected[row.contract_id] = len(rpc.get_logs(row.address, row.from_block, end))
    assert stored == {k: v for k, v in expected.items() if v}
