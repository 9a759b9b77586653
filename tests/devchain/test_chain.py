"""The whole dev chain: anvil + emulators + a seeded scenario, checked against its own ledger."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from eth_utils import keccak
from web3 import HTTPProvider, Web3

from copytrade.devchain.anvil import BLOCK_TIME
from copytrade.devchain.chain import DevChain, DevChainError, ScenarioParams
from copytrade.devchain.rpc import DevRpc
from copytrade.services.process import free_port

ABIS = Path(__file__).resolve().parents[2] / "src" / "copytrade" / "venues" / "abis"
PARAMS = ScenarioParams(traders=40, days=3, seed=7)


def official_topics(abi_path: str) -> dict[str, str]:
    """topic0 -> event name of one official ABI file (event fragments or a full ABI)."""
    data = json.loads((ABIS / abi_path).read_text())
    out = {}
    for e in data:
        if e.get("type") == "event":
            sig = f"{e['name']}({','.join(_type(i) for i in e['inputs'])})"
            out["0x" + keccak(text=sig).hex()] = e["name"]
    return out


def _type(param: dict) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + param["type"][5:]
    return param["type"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    chain = DevChain(tmp_path_factory.mktemp("home"), free_port())
    chain.up()
    manifest = chain.seed(PARAMS)
    yield chain, manifest
    chain.down()


def read(chain: DevChain, name: str) -> list[dict]:
    with (chain.ground_truth_dir / name).open() as fh:
        return list(csv.DictReader(fh))


def test_registry_rows(seeded):
    chain, manifest = seeded
    rows = {r.contract_id: r for r in chain.registry_rows()}
    v9, v10 = rows["gtrade_v9.devchain.diamond"], rows["gtrade_v10.devchain.diamond"]
    assert v9.address == v10.address and v9.to_block + 1 == v10.from_block
    assert v10.from_block == manifest["milestones"]["gtrade_upgrade_block"]
    assert rows["gmx_v1.devchain.vault"].from_block == manifest["milestones"]["indexed_from_block"]
    assert {r.platform for r in rows.values()} == {"gmx", "gtrade", "synthetix"}
    assert all(r.chain_id == 31337 for r in rows.values())


def test_logs_from_every_venue_via_web3(seeded):
    """web3.py fetches the logs with eth_getLogs; every topic0 is an official one."""
    chain, manifest = seeded
    w3 = Web3(HTTPProvider(chain.info().url))
    rows = chain.registry_rows()
    head = w3.eth.block_number
    by_platform: dict[str, int] = Counter()
    unknown = []
    for row in rows:
        official = official_topics(row.abi)
        logs = w3.eth.get_logs({"address": Web3.to_checksum_address(row.address), "fromBlock": row.from_block, "toBlock": row.to_block or head})
        by_platform[(row.platform, row.version)] += len(logs)
        unknown += [lg for lg in logs if "0x" + lg["topics"][0].hex().removeprefix("0x") not in official]
    assert unknown == []
    assert all(by_platform[k] > 0 for k in [("gmx", "v1"), ("gmx", "v2"), ("gtrade", "v9"), ("gtrade", "v10"), ("synthetix", "perps_v2")]), by_platform
    assert sum(by_platform.values()) >= manifest["emitted"]["logs"] * 0.9


def test_every_action_points_at_its_log(seeded):
    chain, _ = seeded
    actions = read(chain, "actions.csv")
    with DevRpc(chain.info().url) as rpc:
        receipts = {}
        for a in actions:
            tx = a["tx_hash"]
            if tx not in receipts:
                receipts[tx] = rpc.receipt(tx)
            receipt = receipts[tx]
            assert int(receipt["status"], 16) == 1
            assert int(receipt["blockNumber"], 16) == int(a["block_number"])
            log = next(lg for lg in receipt["logs"] if int(lg["logIndex"], 16) == int(a["log_index"]))
            assert log["address"].lower() == a["address"]


def test_block_times_follow_the_grid(seeded):
    chain, manifest = seeded
    genesis = manifest["chain"]["genesis_time"]
    actions = read(chain, "actions.csv")
    with DevRpc(chain.info().url) as rpc:
        for n in sorted({int(a["block_number"]) for a in actions})[:50]:
            block = rpc.call("eth_getBlockByNumber", hex(n), False)
            assert int(block["timestamp"], 16) == genesis + BLOCK_TIME * n
    assert all(int(a["block_time"]) == genesis + BLOCK_TIME * int(a["block_number"]) for a in actions)


def test_ledger_adds_up(seeded):
    chain, manifest = seeded
    actions = read(chain, "actions.csv")
    positions = read(chain, "positions.csv")
    daily = read(chain, "daily_pnl.csv")
    by_trader_pos, by_trader_day = defaultdict(Decimal), defaultdict(Decimal)
    for p in positions:
        by_trader_pos[p["trader"]] += Decimal(p["realized_pnl_usd"])
    for d in daily:
        by_trader_day[d["trader"]] += Decimal(d["realized_pnl_usd"])
    assert by_trader_pos == by_trader_day
    for a in actions:
        assert Decimal(a["realized_pnl_usd"]) == (
            Decimal(a["realized_pnl_before_fees_usd"]) - Decimal(a["fee_usd"]) - Decimal(a["funding_usd"])
        )
    assert len(positions) == sum(a["action"] == "OPEN" for a in actions)
    assert manifest["counts"]["actions"] == len(actions)


def test_scenario_has_every_behaviour(seeded):
    chain, _ = seeded
    actions = read(chain, "actions.csv")
    positions = read(chain, "positions.csv")
    traders = read(chain, "traders.csv")
    kinds = Counter(a["action"] for a in actions)
    assert {"OPEN", "INCREASE", "DECREASE", "CLOSE", "LIQUIDATE"} <= set(kinds)
    triggers = Counter(a["trigger"] for a in actions)
    assert triggers["STOP_LOSS"] > 0 and triggers["TAKE_PROFIT"] > 0 and triggers["LIQUIDATION"] > 0
    assert {t["style"] for t in traders} >= {"trend", "scalper", "gambler", "loser", "whale", "early_bird", "noise"}
    assert any(p["opened_before_range"] == "1" for p in positions)
    assert any(a["in_indexed_range"] == "0" for a in actions)
    # a Synthetix flip is a CLOSE and an OPEN sharing one log
    shared = Counter((a["tx_hash"], a["log_index"]) for a in actions)
    assert any(n == 2 for n in shared.values())
    # the gTrade trades straddle the upgrade
    versions = {a["version"] for a in actions if a["platform"] == "gtrade"}
    assert versions == {"v9", "v10"}


def test_seeding_twice_is_refused(seeded):
    chain, _ = seeded
    with pytest.raises(DevChainError, match="already seeded"):
        chain.seed(PARAMS)


def test_same_seed_same_chain(tmp_path):
    """Two fresh chains seeded alike hold the same blocks and logs, byte for byte."""
    params = ScenarioParams(traders=12, days=1, seed=99)
    results = []
    for name in ("a", "b"):
        chain = DevChain(tmp_path / name, free_port())
        chain.up()
        try:
            chain.seed(params)
            with DevRpc(chain.info().url) as rpc:
                head = rpc.block_number()
                logs = rpc.get_logs(0, head)
                hashes = [b["hash"] for b in rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(0, head + 1, 97)])]
            truth = (chain.ground_truth_dir / "actions.csv").read_bytes()
        finally:
            chain.down()
        results.append((logs, hashes, truth))
    assert len(results[0][0]) > 100
    assert results[0] == results[1]


def test_invalid_params_are_refused(tmp_path):
    chain = DevChain(tmp_path, free_port())
    with pytest.raises(DevChainError, match="--window"):
        chain.seed(ScenarioParams(traders=5, days=1, seed=1, window=420))
    with pytest.raises(DevChainError, match="--traders"):
        chain.seed(ScenarioParams(traders=0, days=1, seed=1))
