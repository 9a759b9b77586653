"""``decode_jsonl``: raw JSON-RPC log lines in, decoded objects (or errors) out."""

from __future__ import annotations

import json
from pathlib import Path

from eth_abi import decode as abi_decode
from eth_utils import keccak

from copytrade.chain.logs import LogBatch
from copytrade.venues.decode import decode
from copytrade.venues.jsonl import decode_jsonl
from copytrade.venues.registry import ABIS, Registry, RegistryRow, load_registry
from copytrade.venues.spec import specs_for_row
from tests.venues.test_decode import devchain  # noqa: F401 - the seeded dev chain fixture

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_raw_logs_arbitrum.jsonl"
EMITTER = "0xc8ee91a54287db53897056e12d9819156d3822fb"
GROUPS = ("address", "uint", "int", "bool", "bytes32", "bytes", "string")


def canonical(param: dict) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(canonical(c) for c in param["components"]) + ")" + param["type"][5:]
    return param["type"]


def ref_json(value, param: dict):
    """Independent of the code under test: an eth_abi value as the JSON output shows it."""
    t = param["type"]
    if t.endswith("]"):
        inner = {**param, "type": t[: t.rindex("[")]}
        return [ref_json(v, inner) for v in value]
    if t == "tuple":
        return {c["name"]: ref_json(v, c) for c, v in zip(param["components"], value)}
    if t == "address":
        return value.lower()
    if t == "bool" or t == "string":
        return value
    if t.startswith("bytes"):
        return "0x" + value.hex()
    return str(value)


def ref_event_log_items(data: bytes, kind_types: list[str]) -> dict:
    _, _, groups = abi_decode(kind_types, data)
    out = {}
    for group, (items, arrays) in zip(GROUPS, groups):
        for key, value in items:
            out[key] = _item(group, value)
        for key, values in arrays:
            out[key] = [_item(group, v) for v in values]
    return out


def _item(group: str, value):
    if group in ("uint", "int"):
        return str(value)
    if group == "address":
        return value.lower()
    if group in ("bytes32", "bytes"):
        return "0x" + value.hex()
    return value


def emitter_kinds() -> dict[str, list[str]]:
    abi = json.loads((ABIS / "gmx_v2" / "EventEmitter.abi.json").read_text())
    out = {}
    for e in abi:
        if e.get("type") == "event":
            sig = f"{e['name']}({','.join(canonical(i) for i in e['inputs'])})"
            out["0x" + keccak(text=sig).hex()] = [canonical(i) for i in e["inputs"] if not i["indexed"]]
    return out


def test_real_arbitrum_logs():
    lines = REAL.read_text().splitlines()
    src = [json.loads(line) for line in lines]
    out = list(decode_jsonl(lines, load_registry(), None))
    assert len(out) == len(src) == 475
    kinds = emitter_kinds()
    n_emitter = 0
    for o, s in zip(out, src):
        assert (o["block_number"], o["log_index"], o["tx_hash"]) == (s["blockNumber"], s["logIndex"], s["transactionHash"])
        if s["address"].lower() != EMITTER:
            assert o["error"] == f"no registry row for chain 42161, address {s['address'].lower()}, block {s['blockNumber']}"
            continue
        n_emitter += 1
        assert "error" not in o, o["error"]
        assert o["contract_id"] == "gmx_v2.arbitrum.event_emitter" and o["platform"] == "gmx" and o["version"] == "v2"
        assert o["event"] in ("EventLog1", "EventLog2") and o["topic0"] == s["topics"][0]
        args = o["args"]
        assert "0x" + keccak(text=args["eventName"]).hex() == s["topics"][1]
        assert args["eventName"] == s["_eventName_from_data"] and s["_eventName_hash_matches_topic1"]
        assert args["topic1"] == s["topics"][2] and args["topic2"] == (s["topics"][3] if len(s["topics"]) > 3 else None)
        data = bytes.fromhex(s["data"][2:])
        assert args["msgSender"] == abi_decode(kinds[s["topics"][0]], data)[0].lower()
        items = {k: v for k, v in args.items() if k not in ("eventName", "msgSender", "topic1", "topic2")}
        assert items == ref_event_log_items(data, kinds[s["topics"][0]])
    assert n_emitter == 248


def test_real_emitter_logs_through_a_batch():
    """The same logs through decode(): all land in the generic table (none is a position event)."""
    src = [json.loads(line) for line in REAL.read_text().splitlines()]
    logs = [
        {**s, "blockNumber": hex(s["blockNumber"]), "logIndex": hex(s["logIndex"]),
         "transactionIndex": hex(s["transactionIndex"])}
        for s in src if s["address"].lower() == EMITTER
    ]
    batch = LogBatch.from_rpc(42161, logs)
    result = decode(batch, specs_for_row(load_registry().get("gmx_v2.arbitrum.event_emitter")))
    assert result.quarantine == []
    (table,) = result.tables
    assert table.spec.table == "gmx_v2__event_log" and len(table) == 248
    names = table.columns["event_name"].to_pylist()
    assert names == [s["_eventName_from_data"] for s in src if s["address"].lower() == EMITTER]
    assert all(isinstance(items, dict) and items for items in table.columns["items"].to_pylist())


def test_chain_id_resolution():
    reg = load_registry()
    line = next(ln for ln in REAL.read_text().splitlines() if EMITTER in ln)
    no_chain = json.dumps({k: v for k, v in json.loads(line).items() if k != "chain_id"})
    (o,) = decode_jsonl([no_chain], reg, None)  # the emitter's address is on one chain only
    assert o["chain_id"] == 42161 and "error" not in o
    (o,) = decode_jsonl([no_chain], reg, 43114)  # the default applies, and finds nothing there
    assert o["error"].startswith("no registry row for chain 43114")
    (o,) = decode_jsonl([line], reg, 43114)  # the line's own chain_id wins
    assert "error" not in o
    row = reg.get("gmx_v2.arbitrum.event_emitter")
    twin = RegistryRow(**{**row.as_dict(), "contract_id": "twin", "chain_id": 1})
    (o,) = decode_jsonl([no_chain], Registry([*reg.rows, twin]), None)
    assert o["error"] == f"chain id missing and address {EMITTER} is registered on several chains (1, 42161): give chain_id"
    unknown = json.dumps({**json.loads(no_chain), "address": "0x" + "77" * 20})
    (o,) = decode_jsonl([unknown], reg, None)
    assert o["error"] == f"no registry row for address 0x{'77' * 20} on any chain"
    early = json.dumps({**json.loads(line), "blockNumber": 5})
    (o,) = decode_jsonl([early], reg, None)
    assert o["error"].startswith(f"no registry row for chain 42161, address {EMITTER}, block 5 (registered:")


def test_malformed_and_undecodable_lines():
    reg = load_registry()
    good = json.loads(next(ln for ln in REAL.read_text().splitlines() if EMITTER in ln))
    lines = [
        "{not json",
        json.dumps({k: v for k, v in good.items() if k != "data"}),
        json.dumps({**good, "data": "0x123"}),
        json.dumps({**good, "topics": "0x00"}),
        "",
        json.dumps({**good, "blockNumber": "0xzz"}),
        json.dumps({**good, "data": good["data"][:200]}),  # truncated EventLogData
        json.dumps({**good, "topics": ["0x" + "ab" * 32]}),  # unknown topic0
        json.dumps({**good, "topics": good["topics"][:2]}),  # EventLog1 with 2 topics
        json.dumps({**good, "blockNumber": hex(good["blockNumber"]), "logIndex": hex(good["logIndex"])}),
        "[1, 2]",
    ]
    out = list(decode_jsonl(lines, reg, None))
    assert len(out) == len(lines) - 1  # the blank line is skipped
    errors = [o.get("error") for o in out]
    assert errors[0].startswith("malformed JSON:") and out[0]["line"] == 1
    assert errors[1] == "malformed log: missing 'data'"
    assert errors[2] == "malformed log: data is not hex (or has an odd number of digits: 3)"
    assert errors[3] == "malformed log: topics is not a list of 32-byte hex strings"
    assert errors[4] == "malformed log: blockNumber '0xzz' is not a number" and out[4]["line"] == 6
    assert errors[5].startswith("EventLog1: EventLogData:")
    assert errors[6] == f"unknown topic0 0x{'ab' * 32} for gmx v2"
    assert errors[7] == "EventLog1: expected 3 topics, got 2"
    assert errors[8] is None and out[8]["block_number"] == good["blockNumber"]
    assert errors[9] == "malformed log: not a JSON object"


def test_devchain_logs_as_jsonl(devchain):  # noqa: F811
    """Every dev-chain log decodes; args match an independent eth_abi decode with the ABI names."""
    kinds = emitter_kinds()
    lines, expected = [], []
    for row, logs in devchain.logs.values():
        abi = {}
        for e in json.loads((ABIS / row.abi).read_text()):
            if e.get("type") == "event":
                sig = f"{e['name']}({','.join(canonical(i) for i in e['inputs'])})"
                abi["0x" + keccak(text=sig).hex()] = e
        for log in logs:
            lines.append(json.dumps(log))
            data = bytes.fromhex(log["data"][2:])
            if row.platform == "gmx" and row.version == "v2":
                expected.append((row, None, ref_event_log_items(data, kinds[log["topics"][0]])))
                continue
            event = abi[log["topics"][0]]
            plain = [i for i in event["inputs"] if not i["indexed"]]
            values = iter(abi_decode([canonical(i) for i in plain], data))
            topics = iter(log["topics"][1:])
            args = {}
            for param in event["inputs"]:
                if param["indexed"]:
                    (value,) = abi_decode([canonical(param)], bytes.fromhex(next(topics)[2:]))
                else:
                    value = next(values)
                args[param["name"]] = ref_json(value, param)
            expected.append((row, event["name"], args))
    out = list(decode_jsonl(lines, devchain.registry, 31337))
    assert len(out) == len(lines) > 500
    for o, (row, name, args) in zip(out, expected):
        assert "error" not in o, o
        assert o["contract_id"] == row.contract_id and o["chain_id"] == 31337
        if name is None:
            items = {k: v for k, v in o["args"].items() if k not in ("eventName", "msgSender", "topic1", "topic2")}
            assert items == args
        else:
            assert o["event"] == name and o["args"] == args
    assert {o["event"] for o in out} >= {"MarketExecuted", "IncreasePosition", "PositionModified", "EventLog1"}
