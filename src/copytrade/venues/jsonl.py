"""``copytrade logs decode FILE.jsonl``: raw JSON-RPC logs in, one decoded object per log out.

Input: one log object per line as ``eth_getLogs`` returns it (``address``, ``topics``,
``data``, ``blockNumber`` and ``logIndex`` as hex strings or ints, ``transactionHash``,
optionally ``transactionIndex`` and ``chain_id``). Blank lines are skipped.

Output, per log, in input order::

    {"line", "chain_id", "address", "block_number", "log_index", "tx_hash",
     "contract_id", "platform", "version", "event", "topic0", "args"}

``args``: the ABI names -> values; integers as decimal strings, addresses lower-case 0x
hex, bytes and bytesN as 0x hex, tuples as objects by component name, arrays as lists, an
indexed string/bytes/array as the 0x hash of its topic. GMX v2 EventEmitter logs: the
EventLogData items flattened to key -> value, with ``eventName``, ``msgSender``, ``topic1``,
``topic2`` alongside (an item key equal to one of those four comes as ``key@item``).

A log that cannot be decoded gives ``"error"`` with the reason instead of ``event``/``args``:
no registry row for the chain/address/block, unknown topic0, malformed or truncated log,
chain id missing and the address registered on several chains.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import orjson

from copytrade.chain.logs import LogBatch
from copytrade.venues.abi import EventLogDataError, decode_event_log, json_item
from copytrade.venues.decode import decode
from copytrade.venues.registry import Registry, RegistryRow
from copytrade.venues.spec import GMX_EVENT_LOG, EventSpec, specs_for_row

CHUNK = 20_000
_GMX_FIXED = ("eventName", "msgSender", "topic1", "topic2")


class _Bad(ValueError):
    pass


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _Bad(f"{name} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value[:2] in ("0x", "0X") else int(value)
        except ValueError:
            raise _Bad(f"{name} {value!r} is not a number") from None
    raise _Bad(f"{name} is not a number")


def _hex32(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 66 and value[:2] in ("0x", "0X")


def _parse(obj: Any) -> dict:
    if not isinstance(obj, dict):
        raise _Bad("not a JSON object")
    for key in ("address", "topics", "data", "blockNumber", "logIndex"):
        if key not in obj:
            raise _Bad(f"missing {key!r}")
    address = obj["address"]
    if not (isinstance(address, str) and len(address) == 42 and address[:2] in ("0x", "0X")):
        raise _Bad(f"address {address!r} is not a 20-byte hex address")
    topics = obj["topics"]
    if not isinstance(topics, list) or not all(_hex32(t) for t in topics):
        raise _Bad("topics is not a list of 32-byte hex strings")
    data = obj["data"]
    if not isinstance(data, str) or data[:2] not in ("0x", "0X"):
        raise _Bad("data is not a 0x hex string")
    try:
        raw = bytes.fromhex(data[2:])
    except ValueError:
        raise _Bad(f"data is not hex (or has an odd number of digits: {len(data) - 2})") from None
    chain = obj.get("chain_id", obj.get("chainId"))
    tx_index = obj.get("transactionIndex")
    return {
        "address": address.lower(),
        "topics": [t.lower() for t in topics],
        "data": raw,
        "block_number": _int(obj["blockNumber"], "blockNumber"),
        "log_index": _int(obj["logIndex"], "logIndex"),
        "tx_hash": obj.get("transactionHash"),
        "tx_index": _int(tx_index, "transactionIndex") if tx_index is not None else -1,
        "chain_id": _int(chain, "chain_id") if chain is not None else None,
    }


def _py(value: Any) -> Any:
    """A landing-table value as JSON (ints -> decimal strings, bytes -> 0x hex)."""
    if value is None or isinstance(value, (bool, str, dict, list)):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    return value


def _nest(args: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    d = args
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = value


class _Chains:
    """Which chains an address is registered on (to fill a missing chain id)."""

    def __init__(self, registry: Registry) -> None:
        self.by_address: dict[str, set[int]] = defaultdict(set)
        for row in registry.rows:
            self.by_address[row.address].add(row.chain_id)

    def only(self, address: str) -> int:
        chains = self.by_address.get(address)
        if not chains:
            raise _Bad(f"no registry row for address {address} on any chain")
        if len(chains) > 1:
            raise _Bad(
                f"chain id missing and address {address} is registered on several chains"
                f" ({', '.join(map(str, sorted(chains)))}): give chain_id"
            )
        return next(iter(chains))


def decode_jsonl(
    lines: Iterable[str | bytes], registry: Registry, default_chain_id: int | None = None
) -> Iterator[dict]:
    """Decode JSON-RPC log lines (see the module docstring); one dict per non-blank line."""
    chains = _Chains(registry)
    chunk: list[tuple[int, str | bytes]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        chunk.append((n, line))
        if len(chunk) >= CHUNK:
            yield from _decode_chunk(chunk, registry, chains, default_chain_id)
            chunk = []
    if chunk:
        yield from _decode_chunk(chunk, registry, chains, default_chain_id)


def _decode_chunk(
    chunk: list[tuple[int, str | bytes]], registry: Registry, chains: _Chains, default_chain_id: int | None
) -> list[dict]:
    out: list[dict] = [{} for _ in chunk]
    groups: dict[str, tuple[RegistryRow, list[tuple[int, dict]]]] = {}
    for pos, (n, line) in enumerate(chunk):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            out[pos] = {"line": n, "error": f"malformed JSON: {exc}"}
            continue
        try:
            log = _parse(obj)
        except _Bad as exc:
            out[pos] = {"line": n, "error": f"malformed log: {exc}"}
            continue
        head = {
            "line": n, "chain_id": log["chain_id"], "address": log["address"],
            "block_number": log["block_number"], "log_index": log["log_index"], "tx_hash": log["tx_hash"],
        }
        out[pos] = head
        try:
            if head["chain_id"] is None:
                head["chain_id"] = default_chain_id if default_chain_id is not None else chains.only(log["address"])
        except _Bad as exc:
            head["error"] = str(exc)
            continue
        row = registry.resolve(head["chain_id"], log["address"], log["block_number"])
        if row is None:
            head["error"] = _no_row(registry, head["chain_id"], log["address"], log["block_number"])
            continue
        head.update(contract_id=row.contract_id, platform=row.platform, version=row.version)
        if log["topics"]:
            head["topic0"] = log["topics"][0]
        groups.setdefault(row.contract_id, (row, []))[1].append((pos, log))

    for row, logs in groups.values():
        specs = specs_for_row(row)
        plain: list[tuple[int, dict]] = []
        for pos, log in logs:
            spec = specs.get(log["topics"][0]) if log["topics"] else None
            if spec is not None and spec.decoder == GMX_EVENT_LOG:
                _gmx(out[pos], spec, log)
            else:
                plain.append((pos, log))
        if plain:
            _plain(out, row, specs, plain)
    return out


def _no_row(registry: Registry, chain_id: int, address: str, block: int) -> str:
    rows = [r for r in registry.rows if r.address == address and r.chain_id == chain_id]
    msg = f"no registry row for chain {chain_id}, address {address}, block {block}"
    if rows:
        ranges = ", ".join(
            f"{r.contract_id} {r.from_block}–{'…' if r.to_block is None else r.to_block}" for r in rows
        )
        msg += f" (registered: {ranges})"
    return msg


def _gmx(head: dict, spec: EventSpec, log: dict) -> None:
    try:
        ev = decode_event_log(spec.event, log["topics"], log["data"])
    except EventLogDataError as exc:
        head["error"] = f"{spec.event}: {exc}"
        return
    args: dict[str, Any] = {
        "eventName": ev.event_name, "msgSender": ev.msg_sender, "topic1": ev.topic1, "topic2": ev.topic2,
    }
    for key, value in ev.items.items():
        args[f"{key}@item" if key in _GMX_FIXED else key] = json_item(value)
    head.update(event=spec.event, args=args)


def _plain(out: list[dict], row: RegistryRow, specs: dict[str, EventSpec], logs: list[tuple[int, dict]]) -> None:
    m = len(logs)
    batch = LogBatch(
        chain_id=row.chain_id,
        address=[lg["address"] for _, lg in logs],
        topics=[lg["topics"] for _, lg in logs],
        data=[lg["data"] for _, lg in logs],
        block_number=np.fromiter((lg["block_number"] for _, lg in logs), np.int64, m),
        block_hash=[""] * m,
        tx_hash=[lg["tx_hash"] or "" for _, lg in logs],
        tx_index=np.fromiter((lg["tx_index"] for _, lg in logs), np.int64, m),
        log_index=np.fromiter((lg["log_index"] for _, lg in logs), np.int64, m),
    )
    result = decode(batch, specs)
    for k, reason in result.quarantine:
        out[logs[k][0]]["error"] = reason
    for table in result.tables:
        spec = table.spec
        values = [(f.path, table.columns[f.column].to_pylist()) for f in spec.fields]
        for j, k in enumerate(table.rows.tolist()):
            args: dict[str, Any] = {}
            for path, col in values:
                _nest(args, path, _py(col[j]))
            out[logs[k][0]].update(event=spec.event, args=args)
