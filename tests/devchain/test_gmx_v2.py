"""GMX v2 EventEmitter emulator: official topic0s and keys, the synthetics accounting, and a
ledger that the emitted logs rebuild exactly."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from eth_abi import decode
from eth_utils import keccak

from copytrade.devchain.deploy import execute
from copytrade.devchain.markets import MARKETS
from copytrade.devchain.model import USD_E6, Action, Intent, Trigger
from copytrade.devchain.solidity import artifact
from copytrade.devchain.tokens import token_address
from copytrade.devchain.venues.gmx_v2 import (
    COLLATERAL_PRICE,
    LIQUIDATION,
    LIQUIDATION_HANDLER,
    LIQUIDATION_LOOKAHEAD,
    ORDER_HANDLER,
    USD,
    GmxV2Venue,
    amounts_from_events,
    market_token,
    position_key,
    unit_price,
)

ABIS = Path(__file__).resolve().parents[2] / "src" / "copytrade" / "venues" / "abis"
NEWEST_LAYOUT = "5371c8e928917a2444fde1af24da2606978c2b91"
T0 = 1_735_689_600
TRADER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
E8 = 10**8

# PositionEventUtils._emitPositionFees at 5371c8e9 with no referral / pro / liquidation fee
FEES_KEYS = {
    "address": ["market", "collateralToken", "affiliate", "trader", "uiFeeReceiver"],
    "uint": [
        "collateralTokenPrice.min",
        "collateralTokenPrice.max",
        "tradeSizeUsd",
        "fundingFeeAmount",
        "claimableLongTokenAmount",
        "claimableShortTokenAmount",
        "latestFundingFeeAmountPerSize",
        "latestLongTokenClaimableFundingAmountPerSize",
        "latestShortTokenClaimableFundingAmountPerSize",
        "borrowingFeeUsd",
        "borrowingFeeAmount",
        "borrowingFeeReceiverFactor",
        "borrowingFeeAmountForFeeReceiver",
        "positionFeeFactor",
        "protocolFeeAmount",
        "positionFeeReceiverFactor",
        "feeReceiverAmount",
        "feeAmountForPool",
        "positionFeeAmountForPool",
        "positionFeeAmount",
        "totalCostAmount",
        "uiFeeReceiverFactor",
        "uiFeeAmount",
    ],
    "int": [],
    "bool": ["isIncrease"],
    "bytes32": ["orderKey", "positionKey", "referralCode"],
}
ITEM_TYPES = ("address", "uint", "int", "bool", "bytes32", "bytes", "string")


def canonical(param: dict) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(canonical(c) for c in param["components"]) + ")" + param["type"][5:]
    return param["type"]


def event_abis(abi: list[dict]) -> dict[str, dict]:
    return {e["name"]: e for e in abi if e["type"] == "event"}


def topic0(event: dict) -> str:
    return (
        "0x"
        + keccak(text=f"{event['name']}({','.join(canonical(i) for i in event['inputs'])})").hex()
    )


def official_abi() -> list[dict]:
    return json.loads((ABIS / "gmx_v2" / "EventEmitter.abi.json").read_text())


def newest_layout(event_name: str) -> dict[str, list[str]]:
    layouts = json.loads((ABIS / "gmx_v2" / "position_event_layouts_by_commit.json").read_text())
    items = layouts[NEWEST_LAYOUT]["events"][event_name]["items"]
    return {t: [key for _, key in sorted(items.get(t, []))] for t in ITEM_TYPES[:5]}


# -- (a) topic0s ------------------------------------------------------------------------------


def test_emulator_topics_are_the_official_ones():
    official = event_abis(official_abi())
    ours = event_abis(artifact("GmxV2EventEmitter")["abi"])
    known = json.loads((ABIS / "topic0_gmx.json").read_text())
    for name in ("EventLog", "EventLog1", "EventLog2"):
        assert topic0(ours[name]) == topic0(official[name]) == known[f"GMXv2 {name}"]["topic0"]
        assert [(i["name"], i["indexed"], canonical(i)) for i in ours[name]["inputs"]] == [
            (i["name"], i["indexed"], canonical(i)) for i in official[name]["inputs"]
        ]
    for name in ("PositionIncrease", "PositionDecrease", "PositionFeesCollected"):
        assert (
            "0x" + keccak(text=name).hex()
            == known[f"GMXv2 eventNameHash {name}"]["keccak(eventName)"]
        )


# -- (b) hand-computed cases ------------------------------------------------------------------


def run_long(venue: GmxV2Venue, trader: str = TRADER):
    """Open $50k ETH long at 3300 with $5k, add $20k at 3400 with $1k, cut $30k at 3500
    (withdrawing $500), deposit $300, close at 3250."""
    pos = venue.open_position(trader, MARKETS["ETH/USD"], True)
    steps = []
    steps += pos.apply(
        Intent(Action.OPEN, T0 + 100, 1, 3_300 * E8, 50_000 * USD_E6, 5_000 * USD_E6)
    )
    steps += pos.apply(
        Intent(
            Action.INCREASE,
            T0 + 7_300,
            2,
            3_400 * E8,
            20_000 * USD_E6,
            1_000 * USD_E6,
            trigger=Trigger.LIMIT,
        )
    )
    steps += pos.apply(
        Intent(Action.DECREASE, T0 + 3 * 3_600, 3, 3_500 * E8, 30_000 * USD_E6, 500 * USD_E6)
    )
    steps += pos.apply(
        Intent(Action.COLLATERAL_DEPOSIT, T0 + 5 * 3_600, 4, 3_450 * E8, 0, 300 * USD_E6)
    )
    steps += pos.apply(
        Intent(Action.CLOSE, T0 + 10 * 3_600, 5, 3_250 * E8, trigger=Trigger.STOP_LOSS)
    )
    return pos, steps


def run_short(venue: GmxV2Venue, trader: str = TRADER):
    """Short $200k BTC at 95k with $10k, withdraw $2k, cut $50k at 93k, close at 96k."""
    pos = venue.open_position(trader, MARKETS["BTC/USD"], False)
    steps = []
    steps += pos.apply(
        Intent(Action.OPEN, T0 + 60, 1, 95_000 * E8, 200_000 * USD_E6, 10_000 * USD_E6)
    )
    steps += pos.apply(
        Intent(Action.COLLATERAL_WITHDRAW, T0 + 3_000, 2, 94_500 * E8, 0, 2_000 * USD_E6)
    )
    steps += pos.apply(
        Intent(
            Action.DECREASE,
            T0 + 20_000,
            3,
            93_000 * E8,
            50_000 * USD_E6,
            trigger=Trigger.TAKE_PROFIT,
        )
    )
    steps += pos.apply(Intent(Action.CLOSE, T0 + 50_000, 4, 96_000 * E8))
    return pos, steps


def test_unit_prices_are_exact_for_every_market():
    venue = GmxV2Venue(T0)
    for symbol in venue.markets():
        market = MARKETS[symbol]
        price = unit_price(123_456_789, market.token_decimals)
        assert price * 10**market.token_decimals == 123_456_789 * 10**22


def test_hand_computed_long():
    venue = GmxV2Venue(T0)
    pos, steps = run_long(venue)
    opened, increased, decreased, deposited, closed = steps
    side = "ETH/USD:long"

    # open: 0.05% of $50k = $25 from the $5k, tokens = 50000 / 3300 ETH rounded down
    assert opened.action is Action.OPEN and opened.op["orderType"] == 2
    assert opened.amounts.fee_usd == 25 and opened.amounts.funding_usd == 0
    assert opened.amounts.collateral_after_usd == 4_975
    assert opened.op["sizeInTokens"] == 50_000 * 10**18 // 3_300 == 15_151_515_151_515_151_515
    assert opened.op["executionPrice"] == 3_300 * 10**12  # 1e30 per wei
    assert opened.op["collateralDeltaAmount"] == 4_975 * USD_E6

    # increase (limit order): borrowing and funding on $50k over 2 hours, fee 0.05% of $20k
    cum_b = [venue.borrowing.cumulative(side, t) for t in (T0 + 100, T0 + 7_300)]
    cum_f = [venue.funding.cumulative(side, t) for t in (T0 + 100, T0 + 7_300)]
    borrowing_usd = 50_000 * USD * (cum_b[1] - cum_b[0]) // USD
    funding_units = -(-50_000 * USD * (cum_f[1] - cum_f[0]) // 10**45)
    assert increased.op["orderType"] == 3
    assert increased.op["borrowingFeeUsd"] == borrowing_usd
    assert increased.op["fundingFeeAmount"] == funding_units
    assert increased.amounts.fee_usd == 10
    assert (
        increased.amounts.funding_usd
        == Decimal(borrowing_usd // COLLATERAL_PRICE + funding_units) / 10**6
    )
    # 2 hours at 10-60% + 2-30% APR on $50k: between $0.68 and $10.3
    assert Decimal("0.68") < increased.amounts.funding_usd < Decimal("10.3")
    tokens = 15_151_515_151_515_151_515 + 20_000 * 10**18 // 3_400
    assert increased.op["sizeInTokens"] == tokens
    assert increased.op["borrowingFactor"] == cum_b[1]

    # decrease: 3/7 of the tokens (a long rounds up), pnl = their share of tokens * 3500 - $70k
    delta_tokens = -(-tokens * 30_000 // 70_000)
    assert decreased.op["sizeDeltaInTokens"] == delta_tokens
    total = tokens * 3_500 * 10**12 - 70_000 * USD
    assert decreased.op["basePnlUsd"] == total * delta_tokens // tokens > 0
    pnl_units = decreased.op["basePnlUsd"] // COLLATERAL_PRICE
    assert decreased.amounts.realized_pnl_before_fees_usd == Decimal(pnl_units) / 10**6
    # profit pays the fees; the $500 withdrawal and the rest go out
    costs = decreased.op["totalCostAmount"]
    assert decreased.extra["cash_out_usd"] == Decimal(pnl_units - costs + 500 * USD_E6) / 10**6
    assert decreased.op["collateralDeltaAmount"] == 500 * USD_E6
    assert decreased.amounts.collateral_delta_usd == -500
    assert decreased.op["orderType"] == 4

    assert deposited.action is Action.COLLATERAL_DEPOSIT and deposited.amounts.size_delta_usd == 0
    assert deposited.amounts.fee_usd == 0 and deposited.amounts.collateral_delta_usd == 300

    # close at a loss: stop-loss order, everything left goes back
    assert closed.action is Action.CLOSE and closed.op["orderType"] == 6
    assert closed.op["basePnlUsd"] == (tokens - delta_tokens) * 3_250 * 10**12 - 40_000 * USD < 0
    assert closed.amounts.size_after_usd == 0 and closed.amounts.collateral_after_usd == 0
    assert pos.closed and closed.op["sizeInUsd"] == closed.op["sizeInTokens"] == 0
    assert [s.action for s in steps] == [
        Action.OPEN,
        Action.INCREASE,
        Action.DECREASE,
        Action.COLLATERAL_DEPOSIT,
        Action.CLOSE,
    ]
    assert {s.op["msgSender"] for s in steps} == {int(ORDER_HANDLER, 16)}


def test_hand_computed_short():
    venue = GmxV2Venue(T0)
    pos, steps = run_short(venue)
    opened, withdrawn, decreased, closed = steps
    # a short's tokens round up: 200000 / 95000 BTC in sats
    assert opened.op["sizeInTokens"] == -(-200_000 * 10**8 // 95_000) == 210_526_316
    assert opened.amounts.fee_usd == 100 and opened.amounts.collateral_after_usd == 9_900
    assert (
        withdrawn.action is Action.COLLATERAL_WITHDRAW
        and withdrawn.amounts.collateral_delta_usd == -2_000
    )
    # no pnl, fees from collateral: collateral falls by the withdrawal plus the fees
    assert withdrawn.op["basePnlUsd"] == 0
    assert withdrawn.op["collateralDeltaAmount"] == 2_000 * USD_E6 + withdrawn.op["totalCostAmount"]
    assert withdrawn.extra["cash_out_usd"] == 2_000
    # short profit at 93k on a quarter of the position (a short's token share rounds down)
    delta_tokens = 210_526_316 * 50_000 // 200_000
    total = 200_000 * USD - 210_526_316 * (93_000 * E8 * 10**22 // 10**8)
    assert decreased.op["sizeDeltaInTokens"] == delta_tokens
    assert decreased.op["basePnlUsd"] == total * delta_tokens // 210_526_316 > 0
    assert decreased.op["orderType"] == 5  # LimitDecrease (take profit)
    assert closed.op["basePnlUsd"] < 0 and closed.action is Action.CLOSE
    assert pos.closed


def test_liquidation_loses_exactly_the_collateral():
    venue = GmxV2Venue(T0)
    pos = venue.open_position(TRADER, MARKETS["BTC/USD"], False)
    pos.apply(Intent(Action.OPEN, T0 + 60, 1, 95_000 * E8, 400_000 * USD_E6, 10_000 * USD_E6))
    t = T0 + 3_600
    liq = pos.liquidation_price_e8(t)
    # 40x short: ~2.5% up minus the 0.5% margin and the fees
    assert liq is not None and 96_500 * E8 < liq < 97_400 * E8
    assert not pos.is_liquidatable(t, liq - 50 * E8)
    # conservative: exact with a day's more fees, early by at most that day's fees now
    assert pos.is_liquidatable(t + 86_400, liq + 1) and not pos.is_liquidatable(
        t + 86_400, liq - E8
    )
    assert pos.is_liquidatable(t, liq + 300 * E8)
    collateral = pos.collateral_usd
    (step,) = pos.apply(Intent(Action.LIQUIDATE, t, 2, liq + 300 * E8, trigger=Trigger.LIQUIDATION))
    assert step.action is Action.LIQUIDATE and pos.closed
    assert step.amounts.realized_pnl_usd == -collateral
    assert step.extra["cash_out_usd"] == 0
    assert step.op["orderType"] == LIQUIDATION and step.op["msgSender"] == int(
        LIQUIDATION_HANDLER, 16
    )
    assert step.op["collateralDeltaAmount"] == collateral * USD_E6
    # basePnlUsd is what the trader lost beyond the fees; uncappedBasePnlUsd the price PnL
    assert (
        step.op["basePnlUsd"]
        == -(collateral * USD_E6 - step.op["totalCostAmount"]) * COLLATERAL_PRICE
    )
    total = 400_000 * USD - step.op["sizeDeltaInTokens"] * unit_price(liq + 300 * E8, 8)
    assert step.op["uncappedBasePnlUsd"] == total < 0


def test_liquidation_price_is_conservative_and_exact_at_the_horizon():
    """The price is on the safe side of the true threshold at any time up to the lookahead
    (a scan crossing it re-checks with is_liquidatable) and exact at the lookahead."""
    venue = GmxV2Venue(T0)
    for symbol, is_long, price in (
        ("ETH/USD", True, 3_300),
        ("SOL/USD", False, 190),
        ("DOGE/USD", True, 0.32),
    ):
        pos = venue.open_position(TRADER, MARKETS[symbol], is_long)
        pos.apply(Intent(Action.OPEN, T0 + 10, 1, int(price * E8), 20_000 * USD_E6, 1_000 * USD_E6))
        for t in (T0 + 10, T0 + 40_000):
            liq = pos.liquidation_price_e8(t)
            beyond = liq - 1 if is_long else liq + 1
            for s in (t, t + 3_600, t + LIQUIDATION_LOOKAHEAD):
                assert not pos.is_liquidatable(s, liq)
            assert pos.is_liquidatable(t + LIQUIDATION_LOOKAHEAD, beyond)
            # 20x: the threshold is ~4.5% away from the entry
            assert abs(liq / (price * E8) - 1) < 0.05


def test_refusals_leave_nothing_half_done():
    venue = GmxV2Venue(T0)
    pos = venue.open_position(TRADER, MARKETS["ETH/USD"], True)
    pos.apply(Intent(Action.OPEN, T0 + 100, 1, 3_300 * E8, 50_000 * USD_E6, 2_000 * USD_E6))
    with pytest.raises(ValueError):  # withdrawing most of the margin of a 25x position
        pos.apply(Intent(Action.COLLATERAL_WITHDRAW, T0 + 200, 2, 3_300 * E8, 0, 1_900 * USD_E6))
    with pytest.raises(ValueError):  # insolvent close: the keeper liquidates instead
        pos.apply(Intent(Action.CLOSE, T0 + 300, 3, 3_000 * E8))
    with pytest.raises(ValueError):
        pos.apply(Intent(Action.DECREASE, T0 + 300, 3, 3_300 * E8, 60_000 * USD_E6))
    assert pos.size_usd == 50_000 and pos.collateral_usd == 1_975
    with pytest.raises(ValueError):
        venue.open_position(TRADER, MARKETS["UNI/USD"], True)


# -- (c) cash identity ----------------------------------------------------------------------------


def cash_identity(steps) -> tuple[Decimal, Decimal]:
    realized = sum(s.amounts.realized_pnl_usd for s in steps)
    cash_in = sum(
        s.amounts.collateral_delta_usd for s in steps if s.amounts.collateral_delta_usd > 0
    )
    cash_out = sum(s.extra.get("cash_out_usd", 0) for s in steps)
    return realized, cash_out - cash_in


@pytest.mark.parametrize("run", [run_long, run_short])
def test_cash_identity(run):
    _, steps = run(GmxV2Venue(T0))
    realized, net = cash_identity(steps)
    assert realized == net and any(s.extra["cash_out_usd"] > 0 for s in steps)


def random_life(venue: GmxV2Venue, rng: random.Random, trader: str):
    symbol = rng.choice(venue.markets())
    market = MARKETS[symbol]
    is_long = rng.random() < 0.5
    pos = venue.open_position(trader, market, is_long)
    price = int(market.start_price * E8)
    t = T0 + rng.randrange(0, 86_400)
    collateral = rng.randrange(100, 20_000) * USD_E6
    steps = pos.apply(
        Intent(Action.OPEN, t, 1, price, collateral * rng.randrange(2, 50), collateral)
    )
    for _ in range(rng.randrange(0, 6)):
        t += rng.randrange(60, 40_000)
        price = max(int(price * (1 + rng.gauss(0, 0.02))), 1_000)
        if pos.is_liquidatable(t, price):
            break
        kind = rng.choice(
            [
                Action.INCREASE,
                Action.DECREASE,
                Action.COLLATERAL_DEPOSIT,
                Action.COLLATERAL_WITHDRAW,
            ]
        )
        size = int(pos.size_usd * USD_E6 * Decimal(rng.uniform(0.1, 0.6))) // 10_000 * 10_000
        coll = int(pos.collateral_usd * USD_E6 * Decimal(rng.uniform(0.05, 0.3))) // 10_000 * 10_000
        intent = Intent(
            kind,
            t,
            1,
            price,
            size if kind in (Action.INCREASE, Action.DECREASE) else 0,
            coll if kind is not Action.DECREASE else 0,
        )
        try:
            steps += pos.apply(intent)
        except ValueError:
            pass
    t += rng.randrange(60, 40_000)
    price = max(int(price * (1 + rng.gauss(0, 0.05))), 1_000)
    if pos.is_liquidatable(t, price):
        steps += pos.apply(Intent(Action.LIQUIDATE, t, 1, price, trigger=Trigger.LIQUIDATION))
    else:
        steps += pos.apply(Intent(Action.CLOSE, t, 1, price))
    return pos, steps


def flat_items(op: dict[str, int], which: str) -> dict[str, int]:
    """What the contract puts in each event for ``op``, flattened (the decoder's view)."""
    if which == "fees":
        keys = FEES_KEYS["uint"]
        return {k: op.get(k, 0) for k in keys} | {
            "collateralTokenPrice.min": op["collateralTokenPrice"],
            "tradeSizeUsd": op["sizeDeltaUsd"],
            "protocolFeeAmount": op["positionFeeAmount"],
        }
    decrease = not op["isIncrease"]
    out = {
        k: op[k]
        for k in (
            "sizeInUsd",
            "sizeInTokens",
            "collateralAmount",
            "executionPrice",
            "sizeDeltaUsd",
            "sizeDeltaInTokens",
            "collateralDeltaAmount",
            "orderType",
        )
    }
    if decrease:
        out |= {"basePnlUsd": op["basePnlUsd"], "uncappedBasePnlUsd": op["uncappedBasePnlUsd"]}
    return out


def test_cash_identity_and_decoder_over_random_lives():
    venue = GmxV2Venue(T0)
    rng = random.Random(7)
    liquidations = 0
    for i in range(300):
        pos, steps = random_life(venue, rng, "0x" + (i + 1).to_bytes(20, "big").hex())
        assert pos.closed
        realized, net = cash_identity(steps)
        assert realized == net
        liquidations += steps[-1].action is Action.LIQUIDATE
        for step in steps:
            name = "PositionIncrease" if step.op["isIncrease"] else "PositionDecrease"
            action, amounts, cash_out = amounts_from_events(
                name,
                flat_items(step.op, "fees"),
                flat_items(step.op, "position"),
                pos.market.token_decimals,
            )
            assert (action, amounts, cash_out) == (
                step.action,
                step.amounts,
                step.extra["cash_out_usd"],
            )
    assert liquidations > 5


# -- (d) on chain ---------------------------------------------------------------------------------


def decode_event_log1(log: dict) -> tuple[str, str, dict[str, list[tuple[str, object]]]]:
    abi = event_abis(official_abi())["EventLog1"]
    types = [canonical(i) for i in abi["inputs"] if not i["indexed"]]
    sender, name, data = decode(types, bytes.fromhex(log["data"][2:]))
    items = {}
    for item_type, (kv, array_kv) in zip(ITEM_TYPES, data, strict=True):
        assert array_kv == ()
        items[item_type] = list(kv)
    return sender.lower(), name, items


def test_emitted_logs_decode_with_the_official_abi(anvil, keeper):
    venue = GmxV2Venue(T0)
    ((address, block),) = venue.deploy(anvil, keeper).values()
    (row,) = venue.registry_rows(31337)
    assert (row.address, row.from_block, row.to_block, row.contract) == (
        address,
        block,
        None,
        "EventEmitter",
    )

    _, long_steps = run_long(venue)
    _, short_steps = run_short(venue, OTHER)
    liq = venue.open_position(TRADER, MARKETS["SOL/USD"], True)
    liq_steps = liq.apply(
        Intent(Action.OPEN, T0 + 60, 1, 190 * E8, 30_000 * USD_E6, 1_000 * USD_E6)
    )
    liq_steps += liq.apply(
        Intent(Action.LIQUIDATE, T0 + 600, 2, 180 * E8, trigger=Trigger.LIQUIDATION)
    )
    steps = long_steps + short_steps + liq_steps
    venue.finalize(steps)
    assert len({s.op["orderKey"] for s in steps}) == len(steps)

    tx = execute(anvil, keeper, address, venue.artifact, [s.op for s in steps])
    anvil.mine(1)
    receipt = anvil.receipt(tx)
    assert int(receipt["status"], 16) == 1
    logs = receipt["logs"]
    assert len(logs) == sum(s.n_logs for s in steps) == 2 * len(steps)
    assert int(receipt["gasUsed"], 16) / len(steps) < 400_000

    event_log1 = topic0(event_abis(official_abi())["EventLog1"])
    layouts = {name: newest_layout(name) for name in ("PositionIncrease", "PositionDecrease")}
    for i, step in enumerate(steps):
        fees_log, position_log = logs[2 * i], logs[2 * i + step.anchor]
        assert step.anchor == 1
        decoded = []
        for log in (fees_log, position_log):
            assert log["address"] == address and log["topics"][0] == event_log1
            sender, name, items = decode_event_log1(log)
            assert log["topics"][1] == "0x" + keccak(text=name).hex()
            assert sender == (
                LIQUIDATION_HANDLER if step.action is Action.LIQUIDATE else ORDER_HANDLER
            )
            decoded.append((name, items))
        (fees_name, fees_items), (name, items) = decoded
        is_increase = step.action in (Action.OPEN, Action.INCREASE, Action.COLLATERAL_DEPOSIT)
        assert fees_name == "PositionFeesCollected"
        assert name == ("PositionIncrease" if is_increase else "PositionDecrease")
        # topic1 of the fees event is the market, of the position event the account
        market = market_token(step.position.market.symbol)
        assert fees_log["topics"][2] == "0x" + "00" * 12 + market[2:]
        assert position_log["topics"][2] == "0x" + "00" * 12 + step.position.trader[2:]
        # the keys, per type and in order, are the real ones
        assert {t: [k for k, _ in items[t]] for t in ITEM_TYPES[:5]} == layouts[name]
        assert {t: [k for k, _ in fees_items[t]] for t in ITEM_TYPES[:5]} == FEES_KEYS
        assert (
            items["bytes"] == items["string"] == fees_items["bytes"] == fees_items["string"] == []
        )

        flat = {
            k: (v.lower() if isinstance(v, str) else v) for t in ITEM_TYPES for k, v in items[t]
        }
        fees = {
            k: (v.lower() if isinstance(v, str) else v)
            for t in ITEM_TYPES
            for k, v in fees_items[t]
        }
        # values round-trip
        assert flat["account"] == step.position.trader and flat["market"] == market
        assert flat["collateralToken"] == fees["collateralToken"] == token_address("USDC")
        assert fees["trader"] == step.position.trader and fees["isIncrease"] is is_increase
        assert flat["orderKey"] == fees["orderKey"] == step.op["orderKey"].to_bytes(32, "big")
        assert (
            flat["positionKey"]
            == fees["positionKey"]
            == bytes.fromhex(step.position.position_key[2:])
        )
        assert flat["positionKey"] == position_key(
            step.position.trader, market, token_address("USDC"), step.position.is_long
        )
        assert flat["isLong"] is step.position.is_long
        for key in ("sizeDeltaUsd", "executionPrice", "sizeInUsd", "collateralAmount", "orderType"):
            assert flat[key] == step.op[key], key
        for key in (
            "positionFeeAmount",
            "borrowingFeeUsd",
            "borrowingFeeAmount",
            "fundingFeeAmount",
            "totalCostAmount",
        ):
            assert fees[key] == step.op[key], key
        assert flat[("increasedAtTime" if is_increase else "decreasedAtTime")] == step.intent.time
        if not is_increase:
            assert flat["basePnlUsd"] == step.op["basePnlUsd"]
        # ...so the ledger is rebuilt from the logs alone, exactly
        action, amounts, cash_out = amounts_from_events(
            name, fees, flat, step.position.market.token_decimals
        )
        assert action is step.action
        assert amounts == step.amounts
        assert cash_out == step.extra["cash_out_usd"]
