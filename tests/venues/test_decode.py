"""Decoding LogBatches: the numpy bulk path against eth_abi, quarantine reasons, and a seeded
dev chain whose logs all decode and agree with its ground-truth ledger."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import psycopg
import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.types.json import Jsonb

from copytrade.chain.logs import LogBatch
from copytrade.devchain.anvil import CHAIN_ID
from copytrade.devchain.chain import DevChain, ScenarioParams
from copytrade.devchain.markets import MARKETS
from copytrade.devchain.rpc import DevRpc
from copytrade.devchain.venues.gmx_v2 import amounts_from_events
from copytrade.services.process import free_port
from copytrade.venues.abi import decode_event_log
from copytrade.venues.decode import Column, DecodedTable, decode, hex_rows, words_to_ints
from copytrade.venues.registry import load_registry
from copytrade.venues.spec import landing_specs, specs_for_row, specs_from_abi, tables_for_row

PARAMS = ScenarioParams(traders=40, days=3, seed=7)
EMITTER_KIND_TYPES = [
    "address", "string",
    (
        "(((string,address)[],(string,address[])[]),((string,uint256)[],(string,uint256[])[]),"
        "((string,int256)[],(string,int256[])[]),((string,bool)[],(string,bool[])[]),"
        "((string,bytes32)[],(string,bytes32[])[]),((string,bytes)[],(string,bytes[])[]),"
        "((string,string)[],(string,string[])[]))"
    ),
]


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def make_batch(logs: list[tuple[list[str], bytes]], chain_id: int = 1) -> LogBatch:
    n = len(logs)
    return LogBatch(
        chain_id=chain_id,
        address=["0x" + "aa" * 20] * n,
        topics=[t for t, _ in logs],
        data=[d for _, d in logs],
        block_number=np.arange(100, 100 + n, dtype=np.int64),
        block_hash=["0x" + "00" * 32] * n,
        tx_hash=[hx(keccak(i.to_bytes(4, "big"))) for i in range(n)],
        tx_index=np.zeros(n, np.int64),
        log_index=np.arange(n, dtype=np.int64),
    )


def records(table: DecodedTable) -> list[tuple[int, dict]]:
    """(batch row, {ABI path or GMX key: value}) of every row of a decoded table."""
    cols = [(f.path, table.columns[f.column].to_pylist()) for f in table.spec.fields]
    return [(i, {p: c[j] for p, c in cols}) for j, i in enumerate(table.rows.tolist())]


def accounted(result, n: int) -> None:
    """Every input row is in exactly one table or in the quarantine."""
    rows = [i for t in result.tables for i in t.rows.tolist()] + [i for i, _ in result.quarantine]
    assert sorted(rows) == list(range(n))
    for t in result.tables:
        assert all(len(c) == len(t.rows) for c in t.columns.values())
        assert list(t.columns) == [f.column for f in t.spec.fields]


# -- the bulk numpy path equals eth_abi ----------------------------------------------------------

MIXED = {
    "type": "event", "name": "Mixed", "anonymous": False, "inputs": [
        {"name": "who", "type": "address", "indexed": True},
        {"name": "k", "type": "int64", "indexed": True},
        {"name": "a", "type": "int256", "indexed": False},
        {"name": "b", "type": "uint256", "indexed": False},
        {"name": "c", "type": "bool", "indexed": False},
        {"name": "d", "type": "address", "indexed": False},
        {"name": "e", "type": "bytes32", "indexed": False},
        {"name": "f", "type": "uint8", "indexed": False},
        {"name": "g", "type": "int8", "indexed": False},
        {"name": "h", "type": "int24", "indexed": False},
        {"name": "i", "type": "uint64", "indexed": False},
        {"name": "j", "type": "uint120", "indexed": False},
        {"name": "l", "type": "bytes4", "indexed": False},
        {"name": "m", "type": "int128", "indexed": False},
        {"name": "n", "type": "uint32", "indexed": False},
        {"name": "t", "type": "tuple", "indexed": False, "components": [
            {"name": "x", "type": "uint16"}, {"name": "y", "type": "int256"},
            {"name": "z", "type": "tuple", "components": [{"name": "w", "type": "bool"}, {"name": "v", "type": "uint40"}]},
        ]},
    ],
}
(MIXED_SPEC,) = specs_from_abi([MIXED], "test", "v1")


def uint(bits: int):
    top = 2**bits - 1
    return st.integers(0, top) | st.sampled_from([0, 1, top, top - 1, 2**63, 2**64 - 1, 2**64]).filter(
        lambda v: v <= top)


def sint(bits: int):
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return st.integers(lo, hi) | st.sampled_from([lo, hi, -1, 0, 1, -(2**63), 2**63 - 1, 2**63]).filter(
        lambda v: lo <= v <= hi)


ADDRESS = st.binary(min_size=20, max_size=20).map(hx)
ROW = st.tuples(
    ADDRESS, sint(64), sint(256), uint(256), st.booleans(), ADDRESS, st.binary(min_size=32, max_size=32),
    uint(8), sint(8), sint(24), uint(64), uint(120), st.binary(min_size=4, max_size=4), sint(128), uint(32),
    st.tuples(uint(16), sint(256), st.tuples(st.booleans(), uint(40))),
)
EXTREME = (
    "0x" + "ff" * 20, -(2**63), -(2**255), 2**256 - 1, True, "0x" + "00" * 20, b"\xff" * 32, 255, -128, -(2**23),
    2**64 - 1, 2**120 - 1, b"\x80\x00\x00\x01", -(2**127), 2**32 - 1, (2**16 - 1, 2**255 - 1, (False, 2**40 - 1)),
)


def encode_mixed(values: tuple) -> tuple[list[str], bytes]:
    types = [i for i in MIXED["inputs"]]
    topics = [MIXED_SPEC.topic0]
    plain_types, plain = [], []
    for param, value in zip(types, values):
        t = param["type"] if param["type"] != "tuple" else "(uint16,int256,(bool,uint40))"
        if param["indexed"]:
            topics.append(hx(abi_encode([t], [value])))
        else:
            plain_types.append(t)
            plain.append(value)
    return topics, abi_encode(plain_types, plain)


def expected_mixed(topics: list[str], data: bytes) -> list:
    """eth_abi's decode of one log, flattened and shaped like our columns."""
    who = abi_decode(["address"], bytes.fromhex(topics[1][2:]))[0].lower()
    k = abi_decode(["int64"], bytes.fromhex(topics[2][2:]))[0]
    a, b, c, d, e, f, g, h, i, j, l_, m, n, t = abi_decode(
        [p["type"] if p["type"] != "tuple" else "(uint16,int256,(bool,uint40))" for p in MIXED["inputs"][2:]], data)
    return [who, k, a, b, c, d.lower(), hx(e), f, g, h, i, j, hx(l_), m, n, t[0], t[1], t[2][0], t[2][1]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(ROW, min_size=1, max_size=30))
@example([EXTREME])
@example([EXTREME] * 3 + [tuple(v if not isinstance(v, int) or isinstance(v, bool) else 0 for v in EXTREME)] * 20)
def test_bulk_decode_equals_eth_abi(rows):
    logs = [encode_mixed(r) for r in rows]
    batch = make_batch(logs)
    assert MIXED_SPEC.static and MIXED_SPEC.decoder == "static"
    result = decode(batch, {MIXED_SPEC.topic0: MIXED_SPEC})
    assert result.quarantine == []
    (table,) = result.tables
    assert table.rows.tolist() == list(range(len(rows)))
    got = list(zip(*[table.columns[f.column].to_pylist() for f in MIXED_SPEC.fields]))
    want = [tuple(expected_mixed(t, d)) for t, d in logs]
    assert got == want
    # python types as COPY wants them
    first = got[0]
    assert all(type(v) is int for v in (first[1], first[2], first[3], first[7], first[10]))
    assert type(first[4]) is bool and isinstance(first[5], str)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-(2**255), 2**255 - 1) | st.integers(-(2**70), 2**70), min_size=0, max_size=40))
def test_words_to_ints_signed(values):
    w = np.frombuffer(b"".join(v.to_bytes(32, "big", signed=True) for v in values), np.uint8).reshape(len(values), 32)
    assert words_to_ints(w, signed=True) == values


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 2**256 - 1) | st.integers(0, 2**66), min_size=0, max_size=40))
def test_words_to_ints_unsigned(values):
    w = np.frombuffer(b"".join(v.to_bytes(32, "big") for v in values), np.uint8).reshape(len(values), 32)
    assert words_to_ints(w) == values
    assert hex_rows(w[:, 12:]) == [hx(v.to_bytes(32, "big")[12:]) for v in values]


def test_column_take_and_kinds():
    col = Column("int64", np.array([5, -3, 7]))
    assert col.take([2, 0]).to_pylist() == [7, 5] and len(col) == 3
    obj = Column("object", [None, {"a": "1"}, b"\x01"])
    assert obj.take(np.array([1, 2])).to_pylist() == [{"a": "1"}, b"\x01"]


# -- quarantine ------------------------------------------------------------------------------------


def gmx_v1_specs():
    return specs_for_row(load_registry().get("gmx_v1.arbitrum.vault"))


def increase_position(rng: random.Random) -> tuple[list[str], bytes]:
    spec = next(s for s in gmx_v1_specs().values() if s.event == "IncreasePosition")
    values = [rng.randbytes(32), hx(rng.randbytes(20)), hx(rng.randbytes(20)), hx(rng.randbytes(20)),
              rng.randint(0, 10**36), rng.randint(0, 10**36), rng.random() < 0.5, rng.randint(0, 10**35), rng.randint(0, 10**33)]
    return [spec.topic0], abi_encode([t for t in spec.data_types], values)


def event_log1(name: str, account: str, uints: list[tuple[str, int]], hash_name: str | None = None) -> tuple[list[str], bytes]:
    topic0 = hx(keccak(text="EventLog1(address,string,string,bytes32," + EMITTER_KIND_TYPES[2] + ")"))
    data = ([(("account", account),), ()], [tuple(uints), (("prices", [1, 2, 3]),)], [((("pnl", -5),)), ()],
            [(("isLong", True),), ()], [(("orderKey", b"\x01" * 32),), ()], [(("blob", b"\xde\xad"),), ()],
            [(("note", "héllo"),), (("tags", ["a", "b"]),)])
    body = abi_encode(EMITTER_KIND_TYPES, ["0x" + "42" * 20, name, data])
    topics = [topic0, hx(keccak(text=hash_name or name)), "0x" + "00" * 12 + account[2:]]
    return topics, body


def test_quarantine_reasons_and_nothing_else_lost():
    rng = random.Random(3)
    specs = gmx_v1_specs()
    good = [increase_position(rng) for _ in range(6)]
    topics0, data0 = good[0]
    bad_address = bytearray(data0)
    bad_address[32] = 1  # account's padding
    bad_bool = bytearray(data0)
    bad_bool[6 * 32 + 31] = 2
    logs = [
        good[1],
        (["0x" + "ab" * 32], data0),  # unknown topic0
        (topics0, data0[:256]),  # truncated
        (topics0 + ["0x" + "00" * 32, "0x" + "11" * 32], data0),  # wrong topic count
        good[2],
        (topics0, bytes(bad_address)),
        (topics0, bytes(bad_bool)),
        ([], b""),  # anonymous / no topics
        ([topics0[0].upper().replace("0X", "0x")], data0),  # upper-case topic0 still matches
        good[3], good[4], good[5],
    ]
    result = decode(make_batch(logs), specs)
    accounted(result, len(logs))
    reasons = dict(result.quarantine)
    assert reasons == {
        1: f"unknown topic0 0x{'ab' * 32} for gmx v1",
        2: "data is 256 bytes, IncreasePosition needs 288",
        3: "expected 1 topics, got 3 (IncreasePosition)",
        5: "IncreasePosition.account: non-zero padding for address",
        6: "IncreasePosition.isLong: bool is neither 0 nor 1",
        7: "log has no topics",
    }
    (table,) = result.tables
    assert table.spec.table == "gmx_v1__increase_position"
    assert table.rows.tolist() == [0, 4, 8, 9, 10, 11]
    sizes = table.columns["size_delta"].to_pylist()
    assert sizes[0] == abi_decode(table.spec.data_types, good[1][1])[5]
    assert sizes[2] == abi_decode(table.spec.data_types, data0)[5]
    # a batch the specs know nothing of
    result = decode(make_batch(logs[:3]), {})
    assert all(r.startswith("unknown topic0 0x") for _, r in result.quarantine)


def test_gmx_v2_event_log_quarantine_and_routing():
    specs = specs_for_row(load_registry().get("gmx_v2.arbitrum.event_emitter"))
    alice = "0x" + "a1" * 20
    inc = event_log1("PositionIncrease", alice, [("sizeDeltaUsd", 10**33), ("sizeInUsd", 2 * 10**33), ("newKey", 9)])
    other = event_log1("OrderExecuted", alice, [("x", 1)])
    mismatch = event_log1("PositionIncrease", alice, [("sizeDeltaUsd", 1)], hash_name="PositionDecrease")
    logs = [
        inc, other, mismatch,
        (inc[0], inc[1][: len(inc[1]) // 2]),  # truncated EventLogData
        (inc[0][:2], inc[1]),  # EventLog1 needs 3 topics
        other,
    ]
    result = decode(make_batch(logs, 42161), specs)
    accounted(result, len(logs))
    reasons = dict(result.quarantine)
    assert set(reasons) == {2, 3, 4}
    assert reasons[2].startswith("EventLog1: eventName hash mismatch: keccak('PositionIncrease')")
    assert reasons[3].startswith("EventLog1: EventLogData:")
    assert reasons[4] == "EventLog1: expected 3 topics, got 2"
    tables = {t.spec.table: t for t in result.tables}
    assert set(tables) == {"gmx_v2__position_increase", "gmx_v2__event_log"}
    ((i, rec),) = records(tables["gmx_v2__position_increase"])
    assert i == 0 and rec["eventName"] == "PositionIncrease" and rec["msgSender"] == "0x" + "42" * 20
    assert rec["sizeDeltaUsd"] == 10**33 and rec["sizeInUsd"] == 2 * 10**33 and rec["account"] == alice
    assert rec["isLong"] is True and rec["orderKey"] == "0x" + "01" * 32 and rec["topic2"] is None
    assert rec["topic1"] == "0x" + "00" * 12 + alice[2:]
    assert rec["executionPrice"] is None  # a key this layout lacks
    # keys no column knows (and one of the wrong group) are kept in `extra`
    assert rec["*"] == {"newKey": "9", "prices": ["1", "2", "3"], "pnl": "-5", "blob": "0xdead",
                        "note": "héllo", "tags": ["a", "b"]}
    generic = records(tables["gmx_v2__event_log"])
    assert [i for i, _ in generic] == [1, 5]
    assert generic[0][1]["eventData"] == {
        "account": alice, "x": "1", "prices": ["1", "2", "3"], "pnl": "-5", "isLong": True,
        "orderKey": "0x" + "01" * 32, "blob": "0xdead", "note": "héllo", "tags": ["a", "b"]}
    ev = decode_event_log("EventLog1", inc[0], inc[1])
    assert ev.groups["prices"] == "uint[]" and ev.items["blob"] == b"\xde\xad"


def test_strings_postgres_refuses_are_made_safe():
    """NUL (refused by text and jsonb) and bad utf-8 in string values: landed, not quarantined."""
    specs = specs_for_row(load_registry().get("gmx_v2.arbitrum.event_emitter"))
    topics, data = event_log1("OrderCancelled", "0x" + "a1" * 20, [("x", 1)])
    body = bytearray(data)
    at = body.index("héllo".encode())
    body[at: at + 6] = b"h\x00\xffllo"  # same length: a NUL and a byte that is not utf-8
    result = decode(make_batch([(topics, bytes(body))]), specs)
    assert result.quarantine == []
    ((_, rec),) = records(result.tables[0])
    assert rec["eventData"]["note"] == "h\ufffd\ufffdllo"


def test_dynamic_abi_events_and_their_errors():
    reg = load_registry()
    specs = specs_for_row(reg.get("gtrade_v9.arbitrum.diamond"))
    cut = next(s for s in specs.values() if s.event == "DiamondCut")
    assert cut.decoder == "abi"
    value = [("0x" + "12" * 20, 1, [b"\x01\x02\x03\x04", b"\xaa\xbb\xcc\xdd"])]
    data = abi_encode(cut.data_types, [value, "0x" + "34" * 20, b"\x99"])
    logs = [([cut.topic0], data), ([cut.topic0], data[:100]), ([cut.topic0, cut.topic0], data)]
    result = decode(make_batch(logs), specs)
    accounted(result, 3)
    ((_, rec),) = records(result.tables[0])
    assert rec == {"_diamondCut": [{"facetAddress": "0x" + "12" * 20, "action": "1",
                                    "functionSelectors": ["0x01020304", "0xaabbccdd"]}],
                   "_init": "0x" + "34" * 20, "_calldata": b"\x99"}
    reasons = dict(result.quarantine)
    assert reasons[1].startswith("DiamondCut: ") and reasons[2] == "expected 1 topics, got 2 (DiamondCut)"


# -- a seeded dev chain ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def devchain(tmp_path_factory):
    """A small seeded dev chain: its registry, every registry row's logs, its ledger."""
    home: Path = tmp_path_factory.mktemp("venues-home")
    chain = DevChain(home, free_port())
    chain.up()
    try:
        chain.seed(PARAMS)
        registry = load_registry(home)
        logs = {}
        with DevRpc(chain.info().url) as rpc:
            head = rpc.block_number()
            for row in registry.for_chain(CHAIN_ID):
                end = head if row.to_block is None else row.to_block
                logs[row.contract_id] = (row, rpc.get_logs(row.from_block, end, row.address))
    finally:
        chain.down()
    with (home / "devchain" / "ground_truth" / "actions.csv").open() as fh:
        actions = list(csv.DictReader(fh))
    return SimpleNamespace(home=home, registry=registry, logs=logs, actions=actions)


@pytest.fixture(scope="session")
def decoded(devchain):
    """contract_id -> (row, batch, DecodeResult)."""
    out = {}
    for cid, (row, logs) in devchain.logs.items():
        batch = LogBatch.from_rpc(CHAIN_ID, logs)
        out[cid] = (row, batch, decode(batch, specs_for_row(row)))
    return out


def anchors(devchain, platform: str) -> dict[tuple[str, int], list[dict]]:
    out = defaultdict(list)
    for a in devchain.actions:
        if a["platform"] == platform and a["in_indexed_range"] == "1":
            out[(a["tx_hash"], int(a["log_index"]))].append(a)
    return out


def test_devchain_logs_decode_with_zero_quarantine(decoded):
    landed = defaultdict(int)
    for row, batch, result in decoded.values():
        assert result.quarantine == [], (row.contract_id, result.quarantine[:5])
        accounted(result, len(batch))
        allowed = tables_for_row(row)
        for t in result.tables:
            assert t.spec.table in allowed
            landed[t.spec.table] += len(t)
    for table in ("gmx_v1__increase_position", "gmx_v1__decrease_position", "gmx_v1__update_position_7",
                  "gmx_v1__update_position_8", "gmx_v2__position_increase", "gmx_v2__position_decrease",
                  "gmx_v2__position_fees_collected", "gtrade_v9__market_executed", "gtrade_v10__market_executed",
                  "gtrade_v9__gov_fee_charged", "gtrade_v10__holding_fees_charged_on_trade",
                  "synthetix_perps_v2__position_modified_8", "synthetix_perps_v2__position_modified_9"):
        assert landed[table] > 0, table


def test_gmx_v1_against_the_ledger(devchain, decoded):
    want = anchors(devchain, "gmx")
    seen = set()
    for row, batch, result in decoded.values():
        if (row.platform, row.version) != ("gmx", "v1"):
            continue
        for table in result.tables:
            if table.spec.event not in ("IncreasePosition", "DecreasePosition", "LiquidatePosition"):
                continue
            for i, rec in records(table):
                key = (batch.tx_hash[i], int(batch.log_index[i]))
                (a,) = want[key]
                seen.add(key)
                size = rec["size"] if table.spec.event == "LiquidatePosition" else rec["sizeDelta"]
                price = rec["markPrice"] if table.spec.event == "LiquidatePosition" else rec["price"]
                assert Decimal(size) / 10**30 == Decimal(a["size_delta_usd"])
                assert Decimal(price) / 10**30 == Decimal(a["price"])
                assert rec["account"] == a["trader"] and rec["isLong"] == (a["is_long"] == "1")
                assert a["action"] in ({"OPEN", "INCREASE", "COLLATERAL_DEPOSIT"} if table.spec.event == "IncreasePosition"
                                       else {"DECREASE", "CLOSE", "COLLATERAL_WITHDRAW", "LIQUIDATE"})
    assert seen == {k for k, v in want.items() if v[0]["version"] == "v1"} and len(seen) > 20


def test_gmx_v2_against_the_ledger(devchain, decoded):
    want = anchors(devchain, "gmx")
    ((_, batch, result),) = [v for v in decoded.values() if (v[0].platform, v[0].version) == ("gmx", "v2")]
    tables = {t.spec.table: t for t in result.tables}
    fees = {rec["orderKey"]: rec for _, rec in records(tables["gmx_v2__position_fees_collected"])}
    seen = set()
    for name in ("PositionIncrease", "PositionDecrease"):
        table = tables["gmx_v2__" + ("position_increase" if name == "PositionIncrease" else "position_decrease")]
        for i, rec in records(table):
            key = (batch.tx_hash[i], int(batch.log_index[i]))
            (a,) = want[key]
            seen.add(key)
            assert rec["eventName"] == name and rec["account"] == a["trader"]
            assert rec["topic1"] == "0x" + "00" * 12 + a["trader"][2:]
            assert Decimal(rec["sizeDeltaUsd"]) / 10**30 == Decimal(a["size_delta_usd"])
            action, amounts, _ = amounts_from_events(
                name, fees[rec["orderKey"]], rec, MARKETS[a["market"]].token_decimals)
            assert action.name == a["action"]
            for field in ("size_delta_usd", "size_after_usd", "collateral_delta_usd", "collateral_after_usd",
                          "price", "fee_usd", "funding_usd", "realized_pnl_before_fees_usd"):
                assert getattr(amounts, field) == Decimal(a[field]), field
            assert rec["*"] is None  # every emitted key has its column
    assert seen == {k for k, v in want.items() if v[0]["version"] == "v2"} and seen


def test_synthetix_against_the_ledger(devchain, decoded):
    want = anchors(devchain, "synthetix")
    seen = set()
    for row, batch, result in decoded.values():
        if row.platform != "synthetix":
            continue
        for table in result.tables:
            if table.spec.event not in ("PositionModified", "PositionLiquidated"):
                continue
            for i, rec in records(table):
                key = (batch.tx_hash[i], int(batch.log_index[i]))
                if key not in want:
                    assert table.spec.event == "PositionModified"  # the one before a liquidation
                    continue
                seen.add(key)
                acts = want[key]
                assert {a["trader"] for a in acts} == {rec["account"]}
                if table.spec.event == "PositionModified":
                    volume = Decimal(abs(rec["tradeSize"]) * rec["lastPrice"]) / 10**36
                    assert Decimal(rec["lastPrice"]) / 10**18 == Decimal(acts[-1]["price"])
                else:
                    volume = Decimal(abs(rec["size"]) * rec["price"]) / 10**36
                    assert [a["action"] for a in acts] == ["LIQUIDATE"]
                assert sum(Decimal(a["size_delta_usd"]) for a in acts) == volume
    assert seen == set(want) and len(seen) > 20


def test_gtrade_against_the_ledger(devchain, decoded):
    want = anchors(devchain, "gtrade")
    seen = set()
    for row, batch, result in decoded.values():
        if row.platform != "gtrade":
            continue
        for table in result.tables:
            event = table.spec.event
            if not event.endswith("Executed"):
                continue
            for i, rec in records(table):
                key = (batch.tx_hash[i], int(batch.log_index[i]))
                (a,) = want[key]
                seen.add(key)
                assert a["version"] == row.version
                assert Decimal(rec["oraclePrice"]) / 10**10 == Decimal(a["price"])
                if event in ("MarketExecuted", "LimitExecuted"):
                    assert rec["t.user"] == rec["user"] == a["trader"] == rec["orderId.user"]
                    assert rec["t.long"] == (a["is_long"] == "1")
                    size = rec["t.collateralAmount"] * rec["t.leverage"] // 1000
                    assert Decimal(size) / 10**6 == Decimal(a["size_delta_usd"])
                elif event.startswith("PositionSize"):
                    assert rec["trader"] == a["trader"]
                    assert Decimal(rec["values.positionSizeCollateralDelta"]) / 10**6 == Decimal(a["size_delta_usd"])
                else:
                    assert Decimal(a["size_delta_usd"]) == 0
    assert seen == set(want)
    assert {want[k][0]["version"] for k in seen} == {"v9", "v10"}


@pytest.mark.services
def test_landing_tables_create_and_copy_in_postgres(stack, devchain, decoded):
    """The DDL runs, and to_pylist() values COPY (binary) into it and read back exactly."""
    from copytrade.config import plain_pg_url

    schema = "venues_decode_test"
    types = {"integer": "int4", "bigint": "int8", "text": "text", "boolean": "bool", "bytea": "bytea",
             "jsonb": "jsonb"}
    specs = landing_specs(devchain.registry.rows)
    with psycopg.connect(plain_pg_url(stack.endpoints.database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            for spec in specs.values():
                conn.execute(spec.create_table_sql(schema))
            expected = {}
            for row, batch, result in decoded.values():
                for table in result.tables:
                    spec = table.spec
                    copy_types = ["int4", "text", "int8", "int4", "text", "int4"] + [
                        "numeric" if f.pg_type.startswith("numeric") else types[f.pg_type] for f in spec.fields]
                    jsonb = [k for k, t in enumerate(copy_types) if t == "jsonb"]
                    rows = table.copy_rows(batch, row.contract_id)
                    stmt = sql.SQL("COPY {}.{} FROM STDIN (FORMAT BINARY)").format(
                        sql.Identifier(schema), sql.Identifier(spec.table))
                    with conn.cursor() as cur, cur.copy(stmt) as copy:
                        copy.set_types(copy_types)
                        for r in rows:
                            r = list(r)
                            for k in jsonb:
                                r[k] = Jsonb(r[k]) if r[k] is not None else None
                            copy.write_row(r)
                    for r in rows:
                        expected[(spec.table, r[0], r[2], r[3])] = r
            for table in ("gmx_v1__increase_position", "gtrade_v10__market_executed", "gmx_v2__position_decrease",
                          "synthetix_perps_v2__position_modified_9"):
                got = conn.execute(sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))).fetchall()
                assert got
                for r in got:
                    want = expected[(table, r[0], r[2], r[3])]
                    assert tuple(int(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, (int, bool)) else v
                                 for v in r) == want
        finally:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
