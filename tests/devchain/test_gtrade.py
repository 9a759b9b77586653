"""gTrade diamond emulator: official v9/v10 topic0s, hand-computed trades, cash identity, and an
in-place v9 -> v10 upgrade on anvil whose logs decode with the official ABIs into the ledger."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from eth_abi import decode
from eth_utils import keccak

from copytrade.devchain.anvil import BLOCK_TIME
from copytrade.devchain.calldata import op_layout
from copytrade.devchain.emitter import Emitter
from copytrade.devchain.markets import MARKETS
from copytrade.devchain.model import USD_E6, Action, Intent, Trigger
from copytrade.devchain.solidity import artifact
from copytrade.devchain.venues.gtrade import (
    LEVERAGE_UPDATE_GOV_FEE,
    PERCENT_100,
    GTradeVenue,
    pnl_percent,
    tdiv,
)

OFFICIAL = Path(__file__).resolve().parents[2] / "src" / "copytrade" / "venues" / "abis"
GTRADE = OFFICIAL / "gtrade"
T0 = 1_735_689_600
TRADER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
E8 = 10**8
E10 = 10**10
MAIN_EVENTS = (
    "MarketExecuted", "LimitExecuted", "PositionSizeIncreaseExecuted",
    "PositionSizeDecreaseExecuted", "LeverageUpdateExecuted",
)
ANCHOR_EVENT = dict(enumerate(MAIN_EVENTS))  # Op.kind -> main event
FEE_EVENTS = ("GovFeeCharged", "TriggerFeeCharged", "GnsOtcFeeCharged", "GTokenFeeCharged")


# -- ABI helpers -------------------------------------------------------------------------------
def canonical(param: dict) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(canonical(c) for c in param["components"]) + ")" + param["type"][5:]
    return param["type"]


def signature(event: dict) -> str:
    return f"{event['name']}({','.join(canonical(i) for i in event['inputs'])})"


def topic0(event: dict) -> str:
    return "0x" + keccak(text=signature(event)).hex()


def official_abi(version: str) -> list[dict]:
    return json.loads((GTRADE / f"GNSMultiCollatDiamond_{version}.events.abi.json").read_text())


def official_events(version: str) -> dict[str, dict]:
    """topic0 (computed from the official signature) -> event ABI."""
    return {topic0(e): e for e in official_abi(version) if e["type"] == "event"}


def emulator_events(name: str) -> dict[str, dict]:
    return {e["name"]: e for e in artifact(name)["abi"] if e["type"] == "event"}


def _named(param: dict, value):
    if param["type"] == "tuple":
        return {c["name"]: _named(c, v) for c, v in zip(param["components"], value)}
    if param["type"] == "tuple[]":
        return [_named(param | {"type": "tuple"}, v) for v in value]
    return value


def decode_log(log: dict, events: dict[str, dict]) -> tuple[str, dict]:
    event = events[log["topics"][0]]
    plain = [i for i in event["inputs"] if not i.get("indexed")]
    values = decode([canonical(i) for i in plain], bytes.fromhex(log["data"][2:]))
    fields = {i["name"]: _named(i, v) for i, v in zip(plain, values)}
    indexed = [i for i in event["inputs"] if i.get("indexed")]
    for param, topic in zip(indexed, log["topics"][1:], strict=True):
        fields[param["name"]] = decode([canonical(param)], bytes.fromhex(topic[2:]))[0]
    return event["name"], fields


# -- (a) topic0s ---------------------------------------------------------------------------------
@pytest.mark.parametrize("contract,version", [("GTradeV9Facet", "v9"), ("GTradeV10Facet", "v10")])
def test_facet_topics_are_the_official_ones(contract, version):
    official = official_events(version)
    listed = json.loads((GTRADE / "gains_event_versions.json").read_text())
    listed = listed[f"GNSMultiCollatDiamond {version}"]["events"]
    emitted = emulator_events(contract)
    for name, event in emitted.items():
        t = topic0(event)
        assert t in official and official[t]["name"] == name, name
        # same indexed flags, so the official ABI decodes the logs
        assert [i.get("indexed", False) for i in event["inputs"]] == [
            i.get("indexed", False) for i in official[t]["inputs"]
        ], name
        assert official[t].get("signature", t) == t  # the ABI file's own topic0
        if name in listed:
            assert listed[name]["topic0"] == t, name
    for name in MAIN_EVENTS:
        assert name in emitted
    assert ("BorrowingFeeCharged" in emitted) == (version == "v9")
    assert ("HoldingFeesChargedOnTrade" in emitted) == (version == "v10")


def test_main_topics_differ_between_v9_and_v10():
    v9, v10 = emulator_events("GTradeV9Facet"), emulator_events("GTradeV10Facet")
    for name in MAIN_EVENTS:
        assert topic0(v9[name]) != topic0(v10[name]), name
    for name in FEE_EVENTS:
        assert topic0(v9[name]) == topic0(v10[name]), name
    cut = emulator_events("GTradeDiamond")["DiamondCut"]
    assert topic0(cut) in official_events("v9") and topic0(cut) in official_events("v10")
    # the two facets take different Op tuples, so their execute selectors differ
    assert op_layout("GTradeV9Facet").selector != op_layout("GTradeV10Facet").selector


# -- (b) hand-computed cases ----------------------------------------------------------------------
def usd(x) -> Decimal:
    return Decimal(str(x))


def new_venue(upgrade_block: int = 1_000) -> GTradeVenue:
    return GTradeVenue(upgrade_block=upgrade_block, genesis_time=T0)


def intent(action, t, block, price, size=0, collateral=0, trigger=Trigger.MARKET) -> Intent:
    return Intent(action, T0 + t, block, int(Decimal(str(price)) * E8), size * USD_E6, collateral * USD_E6, trigger)


def test_market_long_open_close():
    """$1000 at 10x on ETH at 3300; close one hour later at 3465 (+5% -> +50%)."""
    venue = new_venue()
    pos = venue.open_position(TRADER, MARKETS["ETH/USD"], True)
    (opened,) = pos.apply(intent(Action.OPEN, 0, 1, 3300, size=10_000, collateral=1_000))
    a = opened.amounts
    assert opened.op["leverage"] == 10_000 and opened.op["openPrice"] == 3300 * E10
    # fee on $10,000: 6 = gov 0.6 + otc (3 of its own + 2 of the unused trigger share) ... gToken 2.4
    assert (opened.op["govFee"], opened.op["triggerFee"], opened.op["gnsOtcFee"], opened.op["gTokenFee"]) == (
        600_000, 0, 3_000_000, 2_400_000)
    assert a.fee_usd == 6 and a.collateral_delta_usd == 1_000 and a.collateral_after_usd == 994
    assert a.size_delta_usd == a.size_after_usd == 9_940 and a.realized_pnl_usd == -6
    assert opened.n_logs == 4 and opened.anchor == 3 and opened.artifact == "GTradeV9Facet"
    # liq price: 90% of 994 lost at 10x -> 9% below open
    assert opened.op["liqPrice"] == 3300 * E10 - 3300 * E10 * 894_600_000 * 1_000 // (994_000_000 * 10_000)

    (closed,) = pos.apply(intent(Action.CLOSE, 3_600, 2, 3465))
    c = closed.amounts
    holding = 9_940_000_000 * (venue.holding.acc(1, True, T0 + 3_600) - venue.holding.acc(1, True, T0)) // PERCENT_100
    assert 0.10 < holding / 9_940_000_000 * 8_760 < 0.40  # 10-40% APR
    assert closed.op["percentProfit"] == 50 * E10
    assert c.realized_pnl_before_fees_usd == 497
    assert c.fee_usd == usd("5.964") and c.funding_usd == Decimal(holding) / USD_E6
    assert closed.extra["cash_out_usd"] == 994 + 497 - usd("5.964") - c.funding_usd
    assert closed.op["amountSentToTrader"] == 994_000_000 + 497_000_000 - 5_964_000 - holding
    assert c.size_delta_usd == 9_940 and c.size_after_usd == 0 and c.collateral_after_usd == 0
    assert closed.n_logs == 5 and closed.action is Action.CLOSE and pos.closed


def test_market_short_open_close():
    """$2000 at 25x on BTC at 95000; close at 93100 (-2% -> +50%) at the same second."""
    pos = new_venue().open_position(TRADER, MARKETS["BTC/USD"], False)
    (opened,) = pos.apply(intent(Action.OPEN, 0, 1, 95_000, size=50_000, collateral=2_000))
    assert opened.amounts.fee_usd == 30 and opened.amounts.collateral_after_usd == 1_970
    assert opened.amounts.size_after_usd == 49_250
    (closed,) = pos.apply(intent(Action.CLOSE, 0, 2, 93_100))
    assert closed.op["percentProfit"] == 50 * E10
    assert closed.amounts.realized_pnl_before_fees_usd == 985
    assert closed.amounts.fee_usd == usd("29.55") and closed.amounts.funding_usd == 0
    assert closed.extra["cash_out_usd"] == 1_970 + 985 - usd("29.55")
    # a short's liquidation price is above the open price
    assert closed.op["liqPrice"] > 95_000 * E10


def test_partial_increase_uses_gtrade_new_open_price():
    """Add $500 at 10x at 3630 (+10%, pnl +100% = +994) to $994 at 10x from 3300."""
    pos = new_venue().open_position(TRADER, MARKETS["ETH/USD"], True)
    pos.apply(intent(Action.OPEN, 0, 1, 3300, size=10_000, collateral=1_000))
    (step,) = pos.apply(intent(Action.INCREASE, 0, 2, 3630, size=5_000, collateral=500))
    op, a = step.op, step.amounts
    assert op["positionSizeCollateralDelta"] == 5_000_000_000 and op["existingPositionSizeCollateral"] == 9_940_000_000
    assert op["newLeverage"] == 14_940_000_000 * 1_000 // 1_494_000_000 == 10_000
    assert op["existingPnlCollateral"] == 994_000_000
    assert op["oldPosSizePlusPnlCollateral"] == 10_934_000_000
    expected_open = (10_934_000_000 * 3300 * E10 + 5_000_000_000 * 3630 * E10) // 15_934_000_000
    assert op["newOpenPrice"] == expected_open and 3300 * E10 < expected_open < 3630 * E10
    assert op["newCollateralAmount"] == 1_491_000_000  # 994 + 500 - 3 opening fee
    assert a.fee_usd == 3 and a.funding_usd == 0 and a.size_delta_usd == 5_000
    assert a.collateral_delta_usd == 500 and a.collateral_after_usd == 1_491 and a.size_after_usd == 14_910
    assert step.action is Action.INCREASE and step.n_logs == 5
    # the unrealized pnl survives the new open price (up to the fees taken from the collateral)
    pp = pnl_percent(pos.open_price, 3630 * E10, True, pos.leverage)
    assert abs(tdiv(pp * pos.collateral, PERCENT_100) - 994_000_000) < 3_000_000


def test_partial_decrease_realizes_pnl_on_the_fraction():
    """Cut half of $9940 at 10x at 3465 (+50% pnl): realizes half of +497 (under v10)."""
    pos = new_venue(upgrade_block=2).open_position(TRADER, MARKETS["ETH/USD"], True)
    pos.apply(intent(Action.OPEN, 0, 1, 3300, size=10_000, collateral=1_000))
    (step,) = pos.apply(intent(Action.DECREASE, 0, 2, 3465, size=4_970))
    op, a = step.op, step.amounts
    assert op["collateralDelta"] == 497_000_000 and op["positionSizeCollateralDelta"] == 4_970_000_000
    assert op["existingPnlCollateral"] == 497_000_000 and op["partialRawPnlCollateral"] == 248_500_000
    assert a.realized_pnl_before_fees_usd == usd("248.5") and a.fee_usd == usd("2.982")
    assert op["availableCollateralInDiamond"] == 497_000_000 - 2_982_000
    assert step.extra["cash_out_usd"] == 497 - usd("2.982") + usd("248.5")
    assert a.collateral_delta_usd == -497 and a.collateral_after_usd == 497 and a.size_after_usd == 4_970
    assert op["newLeverage"] == 10_000 and step.action is Action.DECREASE
    assert step.artifact == "GTradeV10Facet" and step.n_logs == 6  # 4 fees, FeesProcessed, holding


def test_leverage_updates_keep_the_position_size():
    pos = new_venue().open_position(TRADER, MARKETS["ETH/USD"], True)
    pos.apply(intent(Action.OPEN, 0, 1, 3300, size=10_000, collateral=1_000))
    (dep,) = pos.apply(intent(Action.COLLATERAL_DEPOSIT, 60, 2, 3310, collateral=994))
    assert dep.op["newLeverage"] == 5_000 and dep.op["isIncrease"] == 0 and dep.op["collateralDelta"] == 994_000_000
    gov = Decimal(LEVERAGE_UPDATE_GOV_FEE) / USD_E6
    assert dep.amounts.fee_usd == gov == usd("0.045") and dep.amounts.collateral_delta_usd == 994
    assert dep.amounts.collateral_after_usd == 1_988 - gov and dep.amounts.size_delta_usd == 0
    assert dep.amounts.size_after_usd == (1_988 - gov) * 5  # the gov fee is the only size change
    assert dep.n_logs == 2 and dep.action is Action.COLLATERAL_DEPOSIT and dep.extra["cash_out_usd"] == 0
    (wd,) = pos.apply(intent(Action.COLLATERAL_WITHDRAW, 120, 3, 3320, collateral=994))
    assert wd.op["isIncrease"] == 1 and wd.op["newLeverage"] > 5_000
    assert wd.extra["cash_out_usd"] == -wd.amounts.collateral_delta_usd > 0
    assert wd.amounts.realized_pnl_usd == -gov


def test_stop_loss_and_take_profit_are_limit_executions():
    venue = new_venue()
    long = venue.open_position(TRADER, MARKETS["ETH/USD"], True)
    long.apply(intent(Action.OPEN, 0, 1, 3300, size=10_000, collateral=1_000))
    (sl,) = long.apply(intent(Action.CLOSE, 0, 2, 3201, trigger=Trigger.STOP_LOSS))
    assert sl.op["kind"] == 1 and sl.op["orderType"] == 5 and sl.op["sl"] == 3201 * E10
    assert sl.op["percentProfit"] == -30 * E10 and sl.amounts.realized_pnl_before_fees_usd == usd("-298.2")
    assert sl.op["triggerFee"] > 0 and sl.n_logs == 6  # gov, trigger, otc, gToken, borrowing, LimitExecuted
    assert sl.amounts.fee_usd == usd("5.964")  # the trigger share is part of the same 0.06%
    short = venue.open_position(TRADER, MARKETS["ETH/USD"], False)
    (lim,) = short.apply(intent(Action.OPEN, 0, 3, 3300, size=10_000, collateral=1_000, trigger=Trigger.LIMIT))
    assert short.index == 1 and long.index == 0  # per-trader trade index
    assert short.position_key == TRADER + "00000001"
    assert lim.op["kind"] == 1 and lim.op["orderType"] == 2 and lim.op["triggerFee"] == 1_200_000
    (tp,) = short.apply(intent(Action.CLOSE, 0, 4, 3135, trigger=Trigger.TAKE_PROFIT))
    assert tp.op["orderType"] == 4 and tp.op["tp"] == 3135 * E10 and tp.op["percentProfit"] == 50 * E10
    assert tp.amounts.realized_pnl_before_fees_usd == 497


def test_liquidation_loses_the_collateral():
    pos = new_venue().open_position(TRADER, MARKETS["BTC/USD"], True)
    (opened,) = pos.apply(intent(Action.OPEN, 0, 1, 95_000, size=50_000, collateral=1_000))
    assert opened.amounts.collateral_after_usd == 970 and pos.leverage == 50_000
    liq = pos.liquidation_price_e8(T0 + 3_600)
    # 90% of 970 at 50x -> 1.8% below open, a little higher with the accrued holding fee
    assert 95_000 * E8 * 982 // 1_000 <= liq < 95_000 * E8 * 983 // 1_000
    assert not pos.is_liquidatable(T0 + 3_600, liq + 1)
    assert pos.is_liquidatable(T0 + 3_600, liq)
    (step,) = pos.apply(intent(Action.LIQUIDATE, 3_600, 2, Decimal(liq) / E8))
    assert step.action is Action.LIQUIDATE and step.op["orderType"] == 6 and step.op["amountSentToTrader"] == 0
    assert step.amounts.realized_pnl_usd == -970 and step.extra["cash_out_usd"] == 0
    assert step.amounts.fee_usd == 97  # LIQ_CLOSE fee: 10% of the collateral
    assert opened.amounts.realized_pnl_usd + step.amounts.realized_pnl_usd == -1_000
    assert pos.closed and pos.liquidation_price_e8(T0 + 7_200) is None


# -- (c) cash identity -----------------------------------------------------------------------------
def cash_check(steps) -> tuple[Decimal, Decimal, Decimal]:
    realized = sum(s.amounts.realized_pnl_usd for s in steps)
    cash_in = sum(s.amounts.collateral_delta_usd for s in steps if s.amounts.collateral_delta_usd > 0)
    cash_out = sum(s.extra["cash_out_usd"] for s in steps)
    return realized, cash_in, cash_out


def test_cash_identity_full_life():
    pos = new_venue().open_position(TRADER, MARKETS["SOL/USD"], False)
    steps = []
    steps += pos.apply(intent(Action.OPEN, 0, 1, 190, size=20_000, collateral=1_500))
    steps += pos.apply(intent(Action.INCREASE, 5_000, 2, 186, size=6_000, collateral=400))
    steps += pos.apply(intent(Action.COLLATERAL_DEPOSIT, 9_000, 3, 188, collateral=300))
    steps += pos.apply(intent(Action.DECREASE, 20_000, 4, 191.5, size=9_000))
    steps += pos.apply(intent(Action.COLLATERAL_WITHDRAW, 30_000, 5, 185, collateral=250))
    steps += pos.apply(intent(Action.INCREASE, 40_000, 6, 184, size=3_000))  # leverage only, no collateral
    steps += pos.apply(intent(Action.CLOSE, 80_000, 7, 181))
    realized, cash_in, cash_out = cash_check(steps)
    assert cash_out > 0 and realized == cash_out - cash_in
    assert all(s.amounts.funding_usd > 0 for s in steps if s.action in (Action.DECREASE, Action.CLOSE))


def test_cash_identity_random_lives():
    """Many random lives, including losing closes below the liquidation price and liquidations."""
    rng = random.Random(7)
    venue = new_venue(upgrade_block=50)
    for n in range(300):
        market = MARKETS[rng.choice(list(venue.markets()))]
        pos = venue.open_position(f"0x{n:040x}", market, rng.random() < 0.5)
        price = market.start_price
        t, block, steps = 0, 1, []
        steps += pos.apply(intent(Action.OPEN, t, block, round(price, 4), size=rng.randint(2_000, 80_000),
                                  collateral=rng.randint(200, 2_000),
                                  trigger=rng.choice([Trigger.MARKET, Trigger.LIMIT])))
        for _ in range(rng.randint(0, 6)):
            t += rng.randint(60, 30_000)
            block += rng.randint(1, 20)
            price *= 1 + rng.gauss(0, 0.02)
            p = round(price, 4)
            if pos.is_liquidatable(T0 + t, int(Decimal(str(p)) * E8)):
                steps += pos.apply(intent(Action.LIQUIDATE, t, block, p))
                break
            action = rng.choice([Action.INCREASE, Action.DECREASE, Action.COLLATERAL_DEPOSIT,
                                 Action.COLLATERAL_WITHDRAW])
            try:
                if action is Action.INCREASE:
                    steps += pos.apply(intent(action, t, block, p, size=rng.randint(1_000, 20_000),
                                              collateral=rng.choice([0, rng.randint(100, 1_000)])))
                elif action is Action.DECREASE:
                    steps += pos.apply(intent(action, t, block, p, size=int(pos.size_usd * Decimal(rng.random()))))
                else:
                    steps += pos.apply(intent(action, t, block, p, collateral=int(pos.collateral_usd / 3) + 1))
            except ValueError:
                pass  # a request the diamond would refuse
        if not pos.closed:
            t += rng.randint(60, 200_000)
            trigger = rng.choice([Trigger.MARKET, Trigger.TAKE_PROFIT, Trigger.STOP_LOSS, Trigger.LIMIT])
            steps += pos.apply(intent(Action.CLOSE, t, block + 1, round(price * (1 + rng.gauss(0, 0.05)), 4),
                                      trigger=trigger))
        realized, cash_in, cash_out = cash_check(steps)
        assert realized == cash_out - cash_in, (n, [s.action for s in steps])
        for s in steps:  # every amount is whole USDC units
            for v in (s.amounts.fee_usd, s.amounts.funding_usd, s.amounts.realized_pnl_before_fees_usd):
                assert (v * USD_E6) == int(v * USD_E6)
            assert s.artifact == ("GTradeV9Facet" if s.intent.block < 50 else "GTradeV10Facet")


# -- (d) on anvil: v9 -> in-place upgrade -> v10 ------------------------------------------------
def ledger_from_logs(logs: list[tuple[str, dict]], version: str) -> dict:
    """What the dbt models do: one action's logs (fees..., anchor) -> the ledger amounts."""
    name, ev = logs[-1]
    fee = sum(f["amountCollateral"] for n, f in logs if n in FEE_EVENTS)
    funding = 0
    for n, f in logs:
        if n == "BorrowingFeeCharged":
            funding = f["amountCollateral"]
        if n == "HoldingFeesChargedOnTrade":
            funding = f["tradeHoldingFees"]["totalFeeCollateral"]
        if n == "FeesProcessed":
            assert f["totalFeesCollateral"] == fee
    out = {"price": Decimal(ev["oraclePrice"]) / E10, "fee": fee, "funding": funding, "pnl": 0, "cash_out": 0}
    if name in ("MarketExecuted", "LimitExecuted"):
        t = ev["t"]
        size = t["collateralAmount"] * t["leverage"] // 1_000
        opening = ev["open"] if name == "MarketExecuted" else ev["orderType"] == 2
        if opening:
            action = Action.OPEN
            out |= {"size_delta": size, "size_after": size, "coll_delta": t["collateralAmount"] + fee,
                    "coll_after": t["collateralAmount"]}
        else:
            action = Action.LIQUIDATE if name == "LimitExecuted" and ev["orderType"] == 6 else Action.CLOSE
            sent = ev["amountSentToTrader"]
            out |= {"size_delta": size, "size_after": 0, "coll_delta": 0, "coll_after": 0,
                    "pnl": sent + fee + funding - t["collateralAmount"], "cash_out": sent}
    elif name in ("PositionSizeIncreaseExecuted", "PositionSizeDecreaseExecuted"):
        v = ev["values"]
        out |= {"size_delta": v["positionSizeCollateralDelta"], "coll_after": v["newCollateralAmount"],
                "size_after": v["newCollateralAmount"] * v["newLeverage"] // 1_000}
        if name == "PositionSizeIncreaseExecuted":
            action = Action.INCREASE
            out["coll_delta"] = ev["collateralDelta"]
        else:
            action = Action.DECREASE
            out["coll_delta"] = -ev["collateralDelta"]
            if version == "v10":
                out["pnl"] = v["partialRawPnlCollateral"]
            else:
                out["pnl"] = (v["collateralSentToTrader"] - v["availableCollateralInDiamond"]
                              + v["borrowingFeeCollateral"])
            out["cash_out"] = max(0, v["collateralSentToTrader"])
    else:
        v = ev["values"]
        assert v["govFeeCollateral"] == fee
        withdraw = ev["isIncrease"]
        action = Action.COLLATERAL_WITHDRAW if withdraw else Action.COLLATERAL_DEPOSIT
        out |= {"size_delta": 0, "size_after": v["newCollateralAmount"] * v["newLeverage"] // 1_000,
                "coll_delta": -ev["collateralDelta"] if withdraw else ev["collateralDelta"],
                "coll_after": v["newCollateralAmount"], "cash_out": ev["collateralDelta"] if withdraw else 0}
    out["action"] = action
    return out


def test_upgrade_in_place_and_decode_with_official_abis(anvil, keeper):
    """Deploy (v9), trade, upgrade in place, trade the same trades under v10; the emitter puts the
    steps on chain and the diamond's logs, decoded with the official ABI of each block range,
    give back every ledger amount."""
    venue = GTradeVenue(T0)
    deployed = venue.deploy(anvil, keeper)
    assert set(deployed) == set(venue.contract_keys()) == {
        "gtrade.devchain.diamond", "gtrade.devchain.facet_v9", "gtrade.devchain.facet_v10"}
    address = venue.addresses["gtrade.devchain.diamond"]
    b = anvil.block_number() + 1
    upgrade = b + 3  # the upgrade is mined alone in b + 2
    venue.upgrade_block = upgrade
    rows = venue.registry_rows(31337)
    assert [(r.contract_id, r.version, r.from_block, r.to_block, r.address) for r in rows] == [
        ("gtrade_v9.devchain.diamond", "v9", venue.deploy_blocks["gtrade.devchain.diamond"], upgrade - 1, address),
        ("gtrade_v10.devchain.diamond", "v10", upgrade, None, address),
    ]
    assert [r.abi for r in rows] == [
        "gtrade/GNSMultiCollatDiamond_v9.events.abi.json", "gtrade/GNSMultiCollatDiamond_v10.events.abi.json"]
    assert all(r.contract == "GNSMultiCollatDiamond" and r.platform == "gtrade" for r in rows)
    assert venue.admin_blocks() == [upgrade] and venue.admin_calls(upgrade - 1) == []

    def at(block):
        return T0 + BLOCK_TIME * block

    eth = venue.open_position(TRADER, MARKETS["ETH/USD"], True)
    btc = venue.open_position(OTHER, MARKETS["BTC/USD"], False)
    arb = venue.open_position(TRADER, MARKETS["ARB/USD"], True)
    doge = venue.open_position(OTHER, MARKETS["DOGE/USD"], True)
    steps = [
        *eth.apply(Intent(Action.OPEN, at(b), b, 3_300 * E8, 10_000 * USD_E6, 1_000 * USD_E6)),
        *btc.apply(Intent(Action.OPEN, at(b), b, 95_000 * E8, 40_000 * USD_E6, 2_000 * USD_E6, Trigger.LIMIT)),
        *eth.apply(Intent(Action.INCREASE, at(b + 1), b + 1, 3_350 * E8, 4_000 * USD_E6, 500 * USD_E6)),
        *btc.apply(Intent(Action.CLOSE, at(b + 1), b + 1, 96_000 * E8, trigger=Trigger.STOP_LOSS)),
        *doge.apply(Intent(Action.OPEN, at(b + 1), b + 1, 32_000_000, 9_000 * USD_E6, 300 * USD_E6)),
        *doge.apply(Intent(Action.DECREASE, at(b + 1), b + 1, 31_800_000, 3_000 * USD_E6)),  # a loss
        *eth.apply(Intent(Action.DECREASE, at(upgrade), upgrade, 3_400 * E8, 5_000 * USD_E6)),
        *eth.apply(Intent(Action.COLLATERAL_DEPOSIT, at(upgrade), upgrade, 3_400 * E8, 0, 300 * USD_E6)),
        *arb.apply(Intent(Action.OPEN, at(upgrade), upgrade, 80_000_000, 25_000 * USD_E6, 500 * USD_E6)),
    ]
    last = upgrade + 1
    steps += [
        *eth.apply(Intent(Action.COLLATERAL_WITHDRAW, at(last), last, 3_420 * E8, 0, 200 * USD_E6)),
        *eth.apply(Intent(Action.CLOSE, at(last), last, 3_450 * E8)),
        *arb.apply(Intent(Action.LIQUIDATE, at(last), last, arb.liquidation_price_e8(at(last)))),
        *doge.apply(Intent(Action.LIQUIDATE, at(last), last, doge.liquidation_price_e8(at(last)))),
    ]
    assert all(s.artifact == ("GTradeV9Facet" if s.intent.block < upgrade else "GTradeV10Facet") for s in steps)
    emitter = Emitter(anvil, keeper, [venue], venue.addresses, BLOCK_TIME)
    emitter.emit(steps)
    emitter.flush()
    main_topics = {v: {e["name"]: topic0(e) for e in official_abi(v) if e["type"] == "event"} for v in ("v9", "v10")}
    emitter.verify(steps, lambda s: main_topics[s.extra["version"]][ANCHOR_EVENT[s.op["kind"]]])
    assert anvil.block_number() == last

    logs = anvil.get_logs(venue.deploy_blocks["gtrade.devchain.diamond"], last, address)
    assert {log["address"].lower() for log in logs} == {address}
    decoders = {"v9": official_events("v9"), "v10": official_events("v10")}
    by_tx: dict[str, list] = {}
    cuts = []
    for log in logs:
        block = int(log["blockNumber"], 16)
        version = "v9" if block < upgrade else "v10"  # the parser is chosen by block range
        name, fields = decode_log(log, decoders[version])
        if name == "DiamondCut":
            cuts.append((block, fields["_diamondCut"][0]["facetAddress"].lower()))
            continue
        by_tx.setdefault(log["transactionHash"], []).append((int(log["logIndex"], 16), name, fields))
    # the diamond's own DiamondCut logs: the constructor (v9 facet) and the upgrade (v10 facet)
    assert cuts == [(venue.deploy_blocks["gtrade.devchain.diamond"], venue.addresses["gtrade.devchain.facet_v9"]),
                    (upgrade - 1, venue.addresses["gtrade.devchain.facet_v10"])]
    assert sum(len(v) for v in by_tx.values()) == sum(s.n_logs for s in steps)

    seen = set()
    for step in steps:
        version = step.extra["version"]
        tx_logs = by_tx[step.extra["tx_hash"]]
        end = step.extra["log_index"]
        first = end - step.anchor
        action_logs = [(n, f) for i, n, f in tx_logs if first <= i <= end]
        assert len(action_logs) == step.n_logs
        name, ev = action_logs[-1]
        assert step.anchor == step.n_logs - 1 and name == ANCHOR_EVENT[step.op["kind"]]
        trader = step.position.trader
        # identity of the trade: (user, index), the same across the upgrade
        user = ev.get("user", ev.get("trader"))
        assert user.lower() == trader and ev["orderId"]["user"].lower() == trader
        assert ev["orderId"]["index"] == step.op["orderIndex"]
        assert ev["index"] == step.position.index
        for n, f in action_logs[:-1]:
            assert n in (*FEE_EVENTS, "FeesProcessed", "BorrowingFeeCharged", "HoldingFeesChargedOnTrade")
            assert f["trader"].lower() == trader and f["collateralIndex"] == 3
        if "t" in ev:
            t = ev["t"]
            for field in ("leverage", "collateralAmount", "openPrice", "tp", "sl"):
                assert t[field] == step.op[field], field
            assert t["pairIndex"] == step.position.pair_index and t["long"] == step.position.is_long
            assert ev["percentProfit"] == step.op.get("percentProfit", 0)
            assert ev["amountSentToTrader"] == step.op.get("amountSentToTrader", 0)
            assert ev["collateralPriceUsd"] == 10**8
            if version == "v10":
                assert ev["priceImpact"]["priceAfterImpact"] == ev["oraclePrice"]
                assert t["positionSizeToken"] == step.op["positionSizeToken"] > 0
        fees = {n: f["amountCollateral"] for n, f in action_logs if n in FEE_EVENTS}
        for n, key in zip(FEE_EVENTS, ("govFee", "triggerFee", "gnsOtcFee", "gTokenFee")):
            assert fees.get(n, 0) == step.op.get(key, 0), n
        # the ledger, recomputed from the logs alone
        got = ledger_from_logs(action_logs, version)
        a = step.amounts
        assert got["action"] is step.action
        assert Decimal(got["fee"]) / USD_E6 == a.fee_usd
        assert Decimal(got["funding"]) / USD_E6 == a.funding_usd
        assert Decimal(got["size_delta"]) / USD_E6 == a.size_delta_usd
        assert Decimal(got["size_after"]) / USD_E6 == a.size_after_usd
        assert Decimal(got["coll_delta"]) / USD_E6 == a.collateral_delta_usd
        assert Decimal(got["coll_after"]) / USD_E6 == a.collateral_after_usd
        assert Decimal(got["pnl"]) / USD_E6 == a.realized_pnl_before_fees_usd
        assert Decimal(got["cash_out"]) / USD_E6 == step.extra["cash_out_usd"]
        assert got["price"] == a.price
        seen.add((version, step.action, step.position.position_key))
    # the ETH trade was opened under v9 and closed under v10; DOGE liquidated under v10
    assert ("v9", Action.OPEN, eth.position_key) in seen and ("v10", Action.CLOSE, eth.position_key) in seen
    assert ("v9", Action.OPEN, doge.position_key) in seen and ("v10", Action.LIQUIDATE, doge.position_key) in seen
    assert ("v9", Action.CLOSE, btc.position_key) in seen and ("v9", Action.DECREASE, doge.position_key) in seen
    assert min(s.amounts.realized_pnl_before_fees_usd for s in steps if s.action is Action.DECREASE) < 0
    assert arb.closed and doge.closed and eth.closed and btc.closed
