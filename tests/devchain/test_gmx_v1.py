"""GMX v1 Vault emulator: exact official topic0s, emission order, and the Vault's accounting."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from eth_abi import decode
from eth_utils import keccak

from copytrade.devchain.deploy import deploy, execute
from copytrade.devchain.markets import MARKETS
from copytrade.devchain.model import USD_E6, Action, Intent
from copytrade.devchain.solidity import artifact
from copytrade.devchain.venues.gmx_v1 import GmxV1Venue


OFFICIAL = Path(__file__).resolve().parents[2] / "src" / "copytrade" / "venues" / "abis"
T0 = 1_735_689_600
TRADER = "0x" + "ab" * 20


def official_events(abi_file: Path) -> dict[str, dict]:
    """topic0 -> event ABI, computed from the official ABI's signatures."""
    out = {}
    for e in json.loads(abi_file.read_text()):
        if e["type"] == "event":
            sig = f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"
            out["0x" + keccak(text=sig).hex()] = e
    return out


def emulator_topics(name: str) -> dict[str, str]:
    out = {}
    for e in artifact(name)["abi"]:
        if e["type"] == "event":
            sig = f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"
            out[e["name"]] = "0x" + keccak(text=sig).hex()
    return out


@pytest.mark.parametrize(
    "contract,abi", [("GmxV1VaultArbitrum", "gmx_v1/Vault.arbitrum.abi.json"), ("GmxV1VaultAvalanche", "gmx_v1/Vault.avalanche.abi.json")]
)
def test_emulator_topics_are_the_official_ones(contract, abi):
    official = official_events(OFFICIAL / abi)
    for name, topic in emulator_topics(contract).items():
        assert topic in official and official[topic]["name"] == name, name
    # the two layouts really differ in UpdatePosition
    assert emulator_topics("GmxV1VaultArbitrum")["UpdatePosition"] != emulator_topics("GmxV1VaultAvalanche")["UpdatePosition"]


def run_position(venue: GmxV1Venue):
    eth = MARKETS["ETH/USD"]
    pos = venue.open_position(TRADER, eth, True)
    steps = []
    steps += pos.apply(Intent(Action.OPEN, T0 + 100, 1, 3_300 * 10**8, 50_000 * USD_E6, 5_000 * USD_E6))
    steps += pos.apply(Intent(Action.INCREASE, T0 + 7_300, 2, 3_400 * 10**8, 20_000 * USD_E6, 1_000 * USD_E6))
    steps += pos.apply(Intent(Action.DECREASE, T0 + 3 * 3_600, 3, 3_500 * 10**8, 30_000 * USD_E6, 500 * USD_E6))
    steps += pos.apply(Intent(Action.CLOSE, T0 + 10 * 3_600, 4, 3_250 * 10**8))
    return pos, steps


def test_hand_computed_long():
    """Open $50k at 3300 with $5k, add $20k at 3400 with $1k, cut $30k at 3500, close at 3250."""
    venue = GmxV1Venue("gmx_v1.devchain.vault", "arbitrum", T0)
    _, steps = run_position(venue)
    opened, increased, decreased, closed = (s.amounts for s in steps)
    assert opened.fee_usd == Decimal(50) and opened.funding_usd == 0
    assert opened.collateral_after_usd == Decimal(4_950)
    # next average price = 3400 * 70000 / (70000 + 50000*100/3300)
    delta = Decimal(50_000) * 100 / 3_300
    expected_avg = Decimal(3_400) * 70_000 / (70_000 + delta.quantize(Decimal("1e-30"), rounding="ROUND_DOWN"))
    avg = Decimal(steps[1].op["averagePrice"]) / Decimal(10**30)
    assert abs(avg - expected_avg) < Decimal("1e-20")
    # funding charged on the $50k held over two funding hours
    assert increased.funding_usd > 0
    # decrease realizes 30/70 of the profit at 3500
    profit = Decimal(70_000) * (3_500 - avg) / avg * 30_000 / 70_000
    assert abs(decreased.realized_pnl_before_fees_usd - profit) < Decimal("1e-20")
    assert closed.size_after_usd == 0 and closed.collateral_after_usd == 0
    assert [s.action for s in steps] == [Action.OPEN, Action.INCREASE, Action.DECREASE, Action.CLOSE]


def test_cash_identity():
    """Realized PnL over a closed position = cash out - cash in."""
    venue = GmxV1Venue("gmx_v1.devchain.vault", "arbitrum", T0)
    pos, steps = run_position(venue)
    realized = sum(s.amounts.realized_pnl_usd for s in steps)
    cash_in = sum(s.amounts.collateral_delta_usd for s in steps if s.amounts.collateral_delta_usd > 0)
    cash_out = sum(s.extra.get("cash_out_usd", 0) for s in steps)
    assert cash_out > 0
    assert realized == cash_out - cash_in


def test_liquidation_loses_the_collateral():
    venue = GmxV1Venue("gmx_v1.devchain.vault", "arbitrum", T0)
    pos = venue.open_position(TRADER, MARKETS["BTC/USD"], False)
    pos.apply(Intent(Action.OPEN, T0 + 60, 1, 95_000 * 10**8, 400_000 * USD_E6, 10_000 * USD_E6))
    liq = pos.liquidation_price_e8(T0 + 3_600)
    assert liq is not None and 95_000 * 10**8 < liq < 98_000 * 10**8
    assert not pos.is_liquidatable(T0 + 3_600, liq - 100 * 10**8)
    assert pos.is_liquidatable(T0 + 3_600, liq + 10**8)
    collateral = pos.collateral_usd
    (step,) = pos.apply(Intent(Action.LIQUIDATE, T0 + 3_600, 2, liq + 10**8))
    assert step.amounts.realized_pnl_usd == -collateral
    assert step.action is Action.LIQUIDATE and pos.closed


@pytest.mark.parametrize("layout,contract", [("arbitrum", "GmxV1VaultArbitrum"), ("avalanche", "GmxV1VaultAvalanche")])
def test_emitted_logs_decode_with_the_official_abi(anvil, keeper, layout, contract):
    address = deploy(anvil, contract, keeper)
    venue = GmxV1Venue("k", layout, T0)
    _, steps = run_position(venue)
    venue.finalize(steps)
    tx = execute(anvil, keeper, address, contract, [s.op for s in steps])
    anvil.mine(1)
    logs = anvil.receipt(tx)["logs"]
    assert len(logs) == sum(s.n_logs for s in steps)
    abi = OFFICIAL / ("gmx_v1/Vault.arbitrum.abi.json" if layout == "arbitrum" else "gmx_v1/Vault.avalanche.abi.json")
    official = official_events(abi)
    names = [official[log["topics"][0]]["name"] for log in logs]
    assert names == [
        "UpdateFundingRate", "CollectMarginFees", "IncreasePosition", "UpdatePosition",
        "UpdateFundingRate", "CollectMarginFees", "IncreasePosition", "UpdatePosition",
        "UpdateFundingRate", "CollectMarginFees", "UpdatePnl", "DecreasePosition", "UpdatePosition",
        "UpdateFundingRate", "CollectMarginFees", "UpdatePnl", "DecreasePosition", "ClosePosition",
    ]
    # anchors land on the position events and their fields round-trip
    offset = 0
    for step in steps:
        anchor = logs[offset + step.anchor]
        event = official[anchor["topics"][0]]
        values = decode([i["type"] for i in event["inputs"]], bytes.fromhex(anchor["data"][2:]))
        fields = dict(zip([i["name"] for i in event["inputs"]], values))
        assert fields["sizeDelta"] == step.op["sizeDelta"]
        assert fields["account"].lower() == TRADER
        assert fields["price"] == step.op["price"]
        offset += step.n_logs
    update = next(log for log in logs if official[log["topics"][0]]["name"] == "UpdatePosition")
    event = official[update["topics"][0]]
    assert len(event["inputs"]) == (7 if layout == "arbitrum" else 8)
