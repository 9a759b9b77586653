"""Synthetix Perps v2 market emulator: official topic0s in both shapes, Synthetix accounting,
margin identities, and a decoder that rebuilds every ledger field from the logs alone."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from eth_abi import decode
from eth_utils import keccak

from copytrade.devchain.deploy import execute
from copytrade.devchain.markets import MARKETS
from copytrade.devchain.model import USD_E6, Action, Amounts, Intent, Step
from copytrade.devchain.solidity import artifact
from copytrade.devchain.venues.synthetix import (
    ARTIFACT,
    LIQUIDATOR,
    SynthetixPosition,
    SynthetixVenue,
    daily_funding_rate,
    mul_dec,
)

OFFICIAL = Path(__file__).resolve().parents[2] / "src" / "copytrade" / "venues" / "abis" / "synthetix_v2"
T0 = 1_735_689_600  # a whole hour
E8 = 10**8
UNIT = 10**18
ALICE, BOB, CAROL, DAVE = ("0x" + c * 40 for c in "abcd")
ETH, BTC = MARKETS["ETH/USD"], MARKETS["BTC/USD"]


def zero_funding(symbol: str, hour: int) -> int:
    return 0


def signature(event: dict) -> str:
    return f"{event['name']}({','.join(i['type'] for i in event['inputs'])})"


def official_events() -> dict[str, dict]:
    """topic0 -> event ABI, from the per-release event fragments of the real deployments."""
    releases = json.loads((OFFICIAL / "perps_event_abis_by_release.json").read_text())
    out = {}
    for epoch in releases["epochs"].values():
        for sig, entry in epoch["events"].items():
            assert "0x" + keccak(text=sig).hex() == entry["topic0"]
            out[entry["topic0"]] = entry["abi"]
    return out


def emulator_events() -> list[dict]:
    return [e for e in artifact(ARTIFACT)["abi"] if e["type"] == "event"]


# -- (a) signatures ----------------------------------------------------------------------------
def test_emulator_topics_are_the_official_ones():
    official = official_events()
    events = emulator_events()
    topics: dict[str, list[str]] = defaultdict(list)
    for e in events:
        topic = "0x" + keccak(text=signature(e)).hex()
        assert topic in official, signature(e)
        ref = official[topic]
        assert [(i["name"], i["type"], i["indexed"]) for i in e["inputs"]] == [
            (i["name"], i["type"], i["indexed"]) for i in ref["inputs"]
        ], signature(e)
        topics[e["name"]].append(topic)
    assert sorted(topics) == ["FundingRecomputed", "MarginTransferred", "PositionLiquidated", "PositionModified"]
    # both shapes, with distinct topic0s
    assert len(set(topics["PositionModified"])) == 2
    assert len(set(topics["PositionLiquidated"])) == 2
    assert topics["FundingRecomputed"] == ["0x" + keccak(text="FundingRecomputed(int256,int256,uint256,uint256)").hex()]
    # the registry ABI (the current PerpsV2Market) has the new PositionModified
    market_abi = json.loads((OFFICIAL / "PerpsV2Market.abi.json").read_text())
    new_pm = next(e for e in market_abi if e["type"] == "event" and e["name"] == "PositionModified")
    assert "0x" + keccak(text=signature(new_pm)).hex() in topics["PositionModified"]


# -- helpers -----------------------------------------------------------------------------------
def intent(action, time, block, price, size=0, collateral=0, flip=0, flip_collateral=0) -> Intent:
    return Intent(
        action, time, block, int(price * E8), int(size * USD_E6), int(collateral * USD_E6),
        flip_size_e6=int(flip * USD_E6), flip_collateral_e6=int(flip_collateral * USD_E6),
    )


def finalize_by_block(venue: SynthetixVenue, steps: list[Step]) -> None:
    blocks: dict[int, list[Step]] = defaultdict(list)
    for s in steps:
        blocks[s.intent.block].append(s)
    for block in sorted(blocks):
        venue.finalize(blocks[block])


def transfer(step: Step) -> Decimal:
    return step.amounts.collateral_delta_usd


def check_margin_identities(steps: list[Step]) -> None:
    """Per step: realized = margin after - margin before - transfer (margin per account and market).
    Per account and market, once everything is withdrawn: sum(realized) = withdrawals - deposits."""
    margin: dict[tuple, Decimal] = defaultdict(Decimal)
    realized: dict[tuple, Decimal] = defaultdict(Decimal)
    cash: dict[tuple, Decimal] = defaultdict(Decimal)
    for s in steps:
        key = (s.position.trader, s.contract_key)
        a = s.amounts
        assert a.realized_pnl_usd == a.collateral_after_usd - margin[key] - a.collateral_delta_usd, s
        assert a.realized_pnl_usd == a.realized_pnl_before_fees_usd - a.fee_usd - a.funding_usd
        if s.action is Action.COLLATERAL_WITHDRAW:
            assert s.extra["cash_out_usd"] == -a.collateral_delta_usd
        margin[key] = a.collateral_after_usd
        realized[key] += a.realized_pnl_usd
        cash[key] += s.extra.get("cash_out_usd", Decimal(0)) - max(a.collateral_delta_usd, Decimal(0))
    for key, left in margin.items():
        assert left == 0, key
        assert realized[key] == cash[key], key


# -- (b) hand-computed cases ---------------------------------------------------------------
def test_long_decrease_flip_to_short_and_close():
    """Deposit $1,000, long $10,000 at 2000 (5 ETH), cut $4,400 at 2200 (2 ETH), flip to
    $3,800 short at 1900 (one trade of -5 ETH), close at 1800, withdraw everything."""
    venue = SynthetixVenue(T0, shape_switch_block=10**9, funding_rate=zero_funding)
    pos = venue.open_position(ALICE, ETH, True)
    steps = pos.apply(intent(Action.OPEN, T0 + 60, 1, 2_000, 10_000, 1_000))
    assert [s.action for s in steps] == [Action.COLLATERAL_DEPOSIT, Action.OPEN]
    deposit, opened = steps
    assert deposit.amounts.collateral_delta_usd == 1_000 and deposit.op["marginDelta"] == 1_000 * UNIT
    assert deposit.op.get("tradeSize", 0) == 0 and deposit.n_logs == 3 and deposit.anchor == 2
    assert opened.op["size"] == 5 * UNIT and opened.op["tradeSize"] == 5 * UNIT
    assert opened.amounts.fee_usd == 5 and opened.amounts.collateral_after_usd == 995
    assert opened.amounts.size_delta_usd == 10_000

    (decreased,) = pos.apply(intent(Action.DECREASE, T0 + 120, 2, 2_200, 4_400))
    assert decreased.op["tradeSize"] == -2 * UNIT and decreased.op["size"] == 3 * UNIT
    assert decreased.amounts.realized_pnl_before_fees_usd == 1_000  # 5 ETH x +200
    assert decreased.amounts.fee_usd == Decimal("2.2")
    assert decreased.amounts.collateral_after_usd == Decimal("1992.8")
    assert decreased.amounts.size_after_usd == 6_600
    steps.append(decreased)

    flip = pos.apply(intent(Action.CLOSE, T0 + 180, 3, 1_900, flip=3_800))
    assert [s.action for s in flip] == [Action.CLOSE, Action.OPEN]
    closed, reopened = flip
    # one PositionModified carries both halves
    assert closed.n_logs == 2 and not closed.shares_anchor
    assert reopened.n_logs == 0 and reopened.shares_anchor and reopened.op == {"kind": 0}
    assert closed.op["tradeSize"] == -5 * UNIT and closed.op["size"] == -2 * UNIT
    assert closed.amounts.size_delta_usd == 5_700 and closed.amounts.size_after_usd == 0
    assert closed.amounts.realized_pnl_before_fees_usd == -900  # 3 ETH x -300
    assert closed.amounts.fee_usd == Decimal("4.75")  # on the whole 5 ETH traded
    assert closed.amounts.collateral_after_usd == Decimal("1088.05")
    assert reopened.amounts.size_delta_usd == 3_800 and reopened.amounts.fee_usd == 0
    assert reopened.amounts.collateral_after_usd == Decimal("1088.05")
    short = reopened.position
    assert isinstance(short, SynthetixPosition) and short is not pos and not short.is_long
    assert short.size == -2 * UNIT and pos.closed and pos.done and pos.margin == 0
    steps += flip

    (closed2,) = short.apply(intent(Action.CLOSE, T0 + 240, 4, 1_800))
    assert closed2.amounts.realized_pnl_before_fees_usd == 200 and closed2.amounts.fee_usd == Decimal("1.8")
    assert closed2.amounts.collateral_after_usd == Decimal("1286.25")  # the margin stays in the market
    assert short.closed and not short.done and short.keeps_margin_after_close
    # the scenario asks for the (truncated) collateral; a closed position withdraws everything
    (withdrawn,) = short.apply(intent(Action.COLLATERAL_WITHDRAW, T0 + 240, 4, 1_800, collateral=1))
    assert withdrawn.extra["cash_out_usd"] == Decimal("1286.25") and short.done
    steps += [closed2, withdrawn]

    finalize_by_block(venue, steps)
    emitted = [s for s in steps if not s.shares_anchor]
    assert [s.op["id"] for s in emitted] == [0, 1, 1, 1, 1, 0]
    assert [s.op["index"] for s in emitted] == [1, 2, 3, 4, 5, 6]
    assert [s.op["skew"] for s in emitted] == [0, 5 * UNIT, 3 * UNIT, -2 * UNIT, 0, 0]
    assert pos.position_key == short.position_key == "1"
    check_margin_identities(steps)
    assert sum(s.amounts.realized_pnl_usd for s in steps) == Decimal("286.25")


def test_liquidation_loses_the_margin():
    """BTC short of $20,000 at 100,000 (0.2 BTC) on $1,000: margin 990 after the $10 fee."""
    venue = SynthetixVenue(T0, shape_switch_block=0, funding_rate=zero_funding)
    pos = venue.open_position(BOB, BTC, False)
    steps = pos.apply(intent(Action.OPEN, T0 + 60, 1, 100_000, 20_000, 1_000))
    assert pos.margin == 990 * UNIT and pos.size == -UNIT // 5
    # 990 - 0.2 (p - 100000) = 0.2 p 0.35% + 20  ->  p = 20970 / 0.2007
    liq = pos.liquidation_price_e8(T0 + 120)
    assert liq == -(-20_970 * E8 * 10_000 // 2_007)  # ceil
    assert pos.is_liquidatable(T0 + 120, liq) and not pos.is_liquidatable(T0 + 120, liq - 1)
    assert not pos.is_liquidatable(T0 + 120, 104_400 * E8)
    # at 104,500 the remaining margin is 90: flagger 0.1% = 20.9, keeper 20, stakers 49.1
    (liquidated,) = pos.apply(intent(Action.LIQUIDATE, T0 + 120, 2, 104_500))
    op = liquidated.op
    assert (op["flaggerFee"], op["liquidatorFee"], op["stakersFee"]) == (
        Decimal("20.9") * UNIT, 20 * UNIT, Decimal("49.1") * UNIT
    )
    assert op["margin"] == op["size"] == op["tradeSize"] == op["fee"] == 0
    assert op["liquidatedSize"] == -UNIT // 5 and op["liquidator"] == int(LIQUIDATOR, 16)
    assert liquidated.n_logs == 3 and liquidated.anchor == 2
    a = liquidated.amounts
    assert a.fee_usd == 90 and a.realized_pnl_before_fees_usd == -900 and a.realized_pnl_usd == -990
    assert a.size_delta_usd == 20_900 and a.collateral_after_usd == 0 and pos.done

    # deeper under water: the fees exceed the remaining margin, the trader still loses 990
    pos2 = venue.open_position(CAROL, BTC, False)
    pos2.apply(intent(Action.OPEN, T0 + 60, 1, 100_000, 20_000, 1_000))
    (deep,) = pos2.apply(intent(Action.LIQUIDATE, T0 + 120, 2, 105_000))
    assert deep.op["stakersFee"] == 0 and deep.amounts.fee_usd == 41
    assert deep.amounts.realized_pnl_usd == -990
    check_margin_identities(steps + [liquidated])


def test_funding_accrues_over_time():
    """A constant +0.1%/day rate on ETH (reference price 3300): F falls 3.3 sUSD per ETH a day."""
    venue = SynthetixVenue(T0, shape_switch_block=0, funding_rate=lambda s, h: 10**15)
    clock = venue.funding
    assert clock.cumulative("ETH/USD", T0) == 0
    assert clock.cumulative("ETH/USD", T0 + 1_800) == -68_750_000_000_000_000
    assert clock.cumulative("ETH/USD", T0 + 86_400) == -33 * UNIT // 10
    long = venue.open_position(ALICE, ETH, True)
    short = venue.open_position(BOB, ETH, False)
    long.apply(intent(Action.OPEN, T0 + 3_600, 1, 2_000, 10_000, 1_000))
    short.apply(intent(Action.OPEN, T0 + 3_600, 1, 2_000, 10_000, 1_000))
    # a day later, at the same price: longs pay 5 x 3.3, shorts receive it
    (paid,) = long.apply(intent(Action.COLLATERAL_DEPOSIT, T0 + 3_600 + 86_400, 2, 2_000, collateral=100))
    (received,) = short.apply(intent(Action.COLLATERAL_DEPOSIT, T0 + 3_600 + 86_400, 2, 2_000, collateral=100))
    assert paid.amounts.funding_usd == Decimal("16.5") and received.amounts.funding_usd == Decimal("-16.5")
    assert paid.amounts.realized_pnl_before_fees_usd == 0
    assert paid.amounts.collateral_after_usd == 995 - Decimal("16.5") + 100
    assert paid.op["funding"] == clock.cumulative("ETH/USD", T0 + 3_600 + 86_400)
    assert paid.op["fundingRate"] == 10**15
    # funding keeps accruing into the liquidation check
    assert long._remaining_margin(T0 + 3_600 + 2 * 86_400, 2_000 * 10**18) == paid.op["margin"] - Decimal("16.5") * UNIT
    # a negative rate: shorts pay
    neg = SynthetixVenue(T0, shape_switch_block=0, funding_rate=lambda s, h: -(10**15))
    s2 = neg.open_position(BOB, ETH, False)
    s2.apply(intent(Action.OPEN, T0, 1, 2_000, 10_000, 1_000))
    (c,) = s2.apply(intent(Action.CLOSE, T0 + 86_400, 2, 2_000))
    assert c.amounts.funding_usd == Decimal("16.5")


def test_default_funding_rates_are_realistic_and_signed():
    rates = [daily_funding_rate(s, T0 // 3_600 + h) for s in ("ETH/USD", "BTC/USD", "SOL/USD") for h in range(24 * 60)]
    assert all(-3 * 10**14 <= r <= 11 * 10**14 for r in rates)  # -0.03% .. +0.11% a day
    assert any(r < 0 for r in rates) and any(r > 0 for r in rates)
    assert sum(rates) > 0  # longs pay on balance


def test_refusals_leave_the_position_unchanged():
    venue = SynthetixVenue(T0, shape_switch_block=0, funding_rate=zero_funding)
    pos = venue.open_position(ALICE, ETH, True)
    pos.apply(intent(Action.OPEN, T0, 1, 2_000, 10_000, 1_000))
    before = dict(pos.__dict__)
    with pytest.raises(ValueError):  # leaves the position liquidatable
        pos.apply(intent(Action.COLLATERAL_WITHDRAW, T0 + 60, 2, 2_000, collateral=980))
    with pytest.raises(ValueError):  # 300x
        pos.apply(intent(Action.INCREASE, T0 + 60, 2, 2_000, 290_000, 1))
    assert pos.__dict__ == before
    # the account's margin lives in the market: a second position must wait for the withdrawal
    pos.apply(intent(Action.CLOSE, T0 + 120, 3, 2_000))
    other = venue.open_position(ALICE, ETH, False)
    with pytest.raises(ValueError, match="margin"):
        other.apply(intent(Action.OPEN, T0 + 180, 4, 2_000, 1_000, 100))
    pos.apply(intent(Action.COLLATERAL_WITHDRAW, T0 + 180, 4, 2_000))
    assert len(other.apply(intent(Action.OPEN, T0 + 180, 4, 2_000, 1_000, 100))) == 2


# -- (c) margin identities over a longer life ---------------------------------------------
def scripted_life(venue: SynthetixVenue) -> list[Step]:
    """Several accounts over a few days (funding on), in two markets, in both event shapes."""
    h = 3_600
    steps: list[Step] = []
    a = venue.open_position(ALICE, ETH, True)
    steps += a.apply(intent(Action.OPEN, T0 + 1 * h, 1, 3_300, 30_000, 3_000))
    d = venue.open_position(DAVE, ETH, False)
    steps += d.apply(intent(Action.OPEN, T0 + 1 * h, 1, 3_300, 8_000, 2_000))
    c = venue.open_position(CAROL, BTC, True)
    steps += c.apply(intent(Action.OPEN, T0 + 2 * h, 2, 95_000, 95_000, 4_000))
    steps += a.apply(intent(Action.INCREASE, T0 + 2 * h, 2, 3_350, 10_000, 1_000))
    steps += d.apply(intent(Action.COLLATERAL_WITHDRAW, T0 + 3 * h, 3, 3_280, collateral=500))
    steps += a.apply(intent(Action.DECREASE, T0 + 9 * h, 3, 3_410.55, 12_345.67))
    liq = c.liquidation_price_e8(T0 + 20 * h)
    assert c.is_liquidatable(T0 + 20 * h, liq)
    steps += c.apply(Intent(Action.LIQUIDATE, T0 + 20 * h, 4, liq))  # old shape
    steps += a.apply(intent(Action.COLLATERAL_DEPOSIT, T0 + 26 * h, 5, 3_190.12345678, collateral=777.77))
    steps += d.apply(intent(Action.CLOSE, T0 + 30 * h, 6, 3_100))  # new shape from here
    flip = a.apply(intent(Action.CLOSE, T0 + 40 * h, 7, 3_050.5, flip=20_000, flip_collateral=1_500))
    steps += flip
    a2 = flip[-1].position
    b = venue.open_position(BOB, BTC, False)
    steps += b.apply(intent(Action.OPEN, T0 + 41 * h, 8, 97_123.45, 150_000, 6_000))
    steps += d.apply(intent(Action.COLLATERAL_WITHDRAW, T0 + 50 * h, 8, 3_000))
    steps += a2.apply(intent(Action.DECREASE, T0 + 60 * h, 9, 2_990, 5_000, 250))
    liq = b.liquidation_price_e8(T0 + 70 * h)
    steps += b.apply(Intent(Action.LIQUIDATE, T0 + 70 * h, 10, liq + 50 * E8))  # new shape
    steps += a2.apply(intent(Action.CLOSE, T0 + 80 * h, 11, 3_120))
    steps += a2.apply(intent(Action.COLLATERAL_WITHDRAW, T0 + 80 * h, 11, 3_120))
    steps.sort(key=lambda s: s.intent.block)  # stable: keeps each block's emission order
    return steps


def test_margin_identities_on_every_step():
    venue = SynthetixVenue(T0, shape_switch_block=6)
    steps = scripted_life(venue)
    check_margin_identities(steps)
    assert any(s.amounts.funding_usd > 0 for s in steps) and any(s.amounts.funding_usd < 0 for s in steps)
    assert {s.action for s in steps} == set(Action)


# -- (d) on chain: decode with the official ABIs and rebuild the ledger ---------------------
def decode_log(log: dict, official: dict[str, dict]) -> tuple[str, dict, int]:
    event = official[log["topics"][0]]
    topics = iter(log["topics"][1:])
    plain = [i for i in event["inputs"] if not i["indexed"]]
    values = iter(decode([i["type"] for i in plain], bytes.fromhex(log["data"][2:])))
    fields = {}
    for i in event["inputs"]:
        if i["indexed"]:
            (fields[i["name"]],) = decode([i["type"]], bytes.fromhex(next(topics)[2:]))
        else:
            fields[i["name"]] = next(values)
    if "account" in fields:
        fields["account"] = fields["account"].lower()
    return event["name"], fields, len(event["inputs"])


def d18(v: int) -> Decimal:
    return Decimal(v) / UNIT


def rebuild_ledger(logs: list[dict], official: dict[str, dict]) -> dict[tuple[str, str], list[tuple[Action, Amounts]]]:
    """What the dbt models do: per market (log address) and account, walk PositionModified in
    order; the previous one gives margin, size, lastPrice and fundingIndex before the action,
    FundingRecomputed (joined by market and index) the cumulative funding, a MarginTransferred
    just before it the transfer, a PositionLiquidated just after it a liquidation."""
    decoded = [(log["address"].lower(), *decode_log(log, official)) for log in logs]
    funding: dict[tuple[str, int], int] = {}
    state: dict[tuple[str, str], dict] = {}
    out: dict[tuple[str, str], list[tuple[Action, Amounts]]] = defaultdict(list)
    for i, (address, name, f, _) in enumerate(decoded):
        if name == "FundingRecomputed":
            funding[(address, f["index"])] = f["funding"]
            continue
        if name != "PositionModified":
            continue
        key = (address, f["account"])
        prev = state.get(key, {"margin": 0, "size": 0, "lastPrice": 0, "fundingIndex": 0})
        before, after, price = prev["size"], f["size"], f["lastPrice"]
        transfer = 0
        pname, pf, _ = decoded[i - 1][1:] if i > 0 else (None, {}, 0)
        if pname == "MarginTransferred" and decoded[i - 1][0] == address and pf["account"] == f["account"]:
            transfer = pf["marginDelta"]
        pnl = mul_dec(before, price - prev["lastPrice"]) if before else 0
        accrued = mul_dec(before, funding[(address, f["fundingIndex"])] - funding[(address, prev["fundingIndex"])]) if before else 0
        liquidation = i + 1 < len(decoded) and decoded[i + 1][1] == "PositionLiquidated" and decoded[i + 1][0] == address
        if liquidation:
            _, _, lf, n_args = decoded[i + 1]
            assert lf["account"] == f["account"] and lf["size"] == before and lf["price"] == price
            fee = lf["fee"] if n_args == 6 else lf["flaggerFee"] + lf["liquidatorFee"] + lf["stakersFee"]
            out[key].append((Action.LIQUIDATE, Amounts(
                d18(abs(before) * price) / UNIT, Decimal(0), Decimal(0), Decimal(0), d18(price),
                d18(fee), d18(-accrued), d18(fee - accrued - prev["margin"]),
            )))
        else:
            fee = f["fee"]
            assert f["margin"] == prev["margin"] + transfer + pnl + accrued - fee  # the margin identity
            assert f["tradeSize"] == after - before
            common = {"collateral_after_usd": d18(f["margin"]), "price": d18(price)}
            if transfer:
                out[key].append((
                    Action.COLLATERAL_DEPOSIT if transfer > 0 else Action.COLLATERAL_WITHDRAW,
                    Amounts(Decimal(0), d18(abs(after) * price) / UNIT, d18(transfer), fee_usd=d18(fee),
                            funding_usd=d18(-accrued), realized_pnl_before_fees_usd=d18(pnl), **common),
                ))
            elif before != 0 and after != 0 and (before > 0) != (after > 0):  # a flip
                out[key].append((Action.CLOSE, Amounts(
                    d18(abs(before) * price) / UNIT, Decimal(0), Decimal(0), fee_usd=d18(fee),
                    funding_usd=d18(-accrued), realized_pnl_before_fees_usd=d18(pnl), **common)))
                out[key].append((Action.OPEN, Amounts(
                    d18(abs(after) * price) / UNIT, d18(abs(after) * price) / UNIT, Decimal(0),
                    fee_usd=Decimal(0), funding_usd=Decimal(0), realized_pnl_before_fees_usd=Decimal(0), **common)))
            else:
                action = (Action.OPEN if before == 0 else Action.CLOSE if after == 0
                          else Action.INCREASE if abs(after) > abs(before) else Action.DECREASE)
                out[key].append((action, Amounts(
                    d18(abs(after - before) * price) / UNIT, d18(abs(after) * price) / UNIT, Decimal(0),
                    fee_usd=d18(fee), funding_usd=d18(-accrued), realized_pnl_before_fees_usd=d18(pnl), **common)))
        state[key] = {"margin": f["margin"], "size": after, "lastPrice": price, "fundingIndex": f["fundingIndex"]}
    return out


def test_emitted_logs_rebuild_the_ledger(anvil, keeper):
    venue = SynthetixVenue(T0, shape_switch_block=6)
    deployed = venue.deploy(anvil, keeper)
    assert set(deployed) == set(venue.contract_keys()) == {
        "synthetix_perps_v2.devchain.eth_perp", "synthetix_perps_v2.devchain.btc_perp",
        "synthetix_perps_v2.devchain.sol_perp",
    }
    rows = venue.registry_rows(31337)
    assert {(r.platform, r.version, r.abi, r.contract, r.to_block) for r in rows} == {
        ("synthetix", "perps_v2", "synthetix_v2/PerpsV2Market.events.json", "PerpsV2Proxy", None)
    }
    steps = scripted_life(venue)
    blocks: dict[int, list[Step]] = defaultdict(list)
    for s in steps:
        blocks[s.intent.block].append(s)
    logs: list[dict] = []
    official = official_events()
    for block in sorted(blocks):
        venue.finalize(blocks[block])
        txs = []
        for key in venue.contract_keys():  # one batch per market per block, emission order kept
            ops = [s.op for s in blocks[block] if s.contract_key == key and not s.shares_anchor]
            if ops:
                txs.append(execute(anvil, keeper, venue.addresses[key], ARTIFACT, ops))
        anvil.mine(1)
        for tx in txs:
            receipt = anvil.receipt(tx)
            assert int(receipt["status"], 16) == 1
            keyed = [s for s in blocks[block] if venue.addresses[s.contract_key] == receipt["to"].lower()]
            assert len(receipt["logs"]) == sum(s.n_logs for s in keyed)
            # anchors: PositionModified for trades and transfers, PositionLiquidated for liquidations
            offset = 0
            for s in keyed:
                if s.shares_anchor:
                    continue
                name, f, n_args = decode_log(receipt["logs"][offset + s.anchor], official)
                assert name == ("PositionLiquidated" if s.action is Action.LIQUIDATE else "PositionModified")
                assert n_args == ({"PositionModified": 9, "PositionLiquidated": 8} if s.op["newShape"]
                                  else {"PositionModified": 8, "PositionLiquidated": 6})[name]
                assert f["id"] == s.op["id"] and f["account"] == s.position.trader
                offset += s.n_logs
            logs += receipt["logs"]

    names = [(official[lg["topics"][0]]["name"], len(official[lg["topics"][0]]["inputs"])) for lg in logs]
    assert ("PositionModified", 8) in names and ("PositionModified", 9) in names
    assert ("PositionLiquidated", 6) in names and ("PositionLiquidated", 8) in names

    rebuilt = rebuild_ledger(logs, official)
    expected: dict[tuple[str, str], list[tuple[Action, Amounts]]] = defaultdict(list)
    for s in steps:
        expected[(venue.addresses[s.contract_key], s.position.trader)].append((s.action, s.amounts))
    assert set(rebuilt) == set(expected)
    for key, ledger in expected.items():
        assert rebuilt[key] == ledger, key

    # ids: the flip keeps its id; margin transfers without a position carry id 0
    flip_close = next(s for s in steps if s.extra.get("flip_to") is not None)
    assert flip_close.extra["flip_to"].position_key == flip_close.position.position_key != ""
    assert all(s.op["id"] == 0 for s in steps if s.extra.get("size_before") == 0 == s.extra.get("size_after"))
