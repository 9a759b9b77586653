"""Decode a :class:`LogBatch` into typed landing-table columns, or quarantine each log.

:func:`decode` groups the logs by topic0 and hands each group to its spec's decoder:

* static layouts (every non-indexed leaf one static word: GMX v1, Synthetix, gTrade's trade
  and fee events, static tuples included) in bulk with numpy: one ``np.frombuffer`` over
  the joined data of the group, reshaped (N, words, 32); padding and ranges are checked
  column-wise (as strictly as eth_abi), nothing loops over logs in Python;
* other ABI events with eth_abi, log by log;
* GMX v2's EventLog/1/2 with the hand-written EventLogData decoder, routed by eventName.

Strings headed for text / jsonb columns have NUL replaced by U+FFFD (PostgreSQL refuses NUL);
the raw log keeps the bytes.

Every input row lands in exactly one :class:`DecodedTable` or in ``quarantine`` as
``(row, reason)``. Values stay columnar (:class:`Column`) until ``to_pylist()``.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import eth_abi
import numpy as np

from copytrade.chain.logs import LogBatch
from copytrade.venues.abi import (
    EventLogDataError,
    decode_event_log,
    json_item,
    pg_safe,
    to_python,
)
from copytrade.venues.spec import (
    ABI,
    GMX_EVENT_LOG,
    STATIC,
    EventSpec,
    Field,
    specs_for_row,
    tables_for_row,
)

__all__ = [
    "Column", "DecodeResult", "DecodedTable", "decode", "specs_for_row", "tables_for_row",
]

_U8 = np.uint8


# -- columns ------------------------------------------------------------------------------------


@dataclass
class Column:
    """Values of one landing-table column, columnar.

    ``kind``:
      ``word``   (N, 32) uint8 big-endian 256-bit words (``signed``: two's complement) —
                 integers wider than 64 bits;
      ``int64`` / ``uint64``  numpy integer arrays (every integer type up to 64 bits);
      ``bool``   numpy bool array;
      ``hex``    (N, k) uint8 array shown as ``0x`` + 2k lower-case hex (address, bytesN,
                 topic hashes);
      ``object`` a Python list of ready values (may hold None).
    """

    kind: str
    data: Any
    signed: bool = False

    def __len__(self) -> int:
        return len(self.data)

    def take(self, idx: np.ndarray | list[int]) -> Column:
        """The values at ``idx`` (positions in this column), as a new column."""
        if self.kind == "object":
            return Column("object", [self.data[i] for i in np.asarray(idx).tolist()], self.signed)
        return Column(self.kind, self.data[np.asarray(idx, dtype=np.int64)], self.signed)

    def to_pylist(self) -> list:
        """Python values ready for psycopg COPY: int, str, bool, None, bytes (bytea),
        dict/list (jsonb)."""
        kind = self.kind
        if kind == "word":
            return words_to_ints(self.data, self.signed)
        if kind in ("int64", "uint64", "bool"):
            return self.data.tolist()
        if kind == "hex":
            return hex_rows(self.data)
        return list(self.data)


def words_to_ints(w: np.ndarray, signed: bool = False) -> list[int]:
    """(N, 32) big-endian words -> Python ints: the low uint64/int64 limb with numpy for
    every row whose high 24 bytes are only sign (or zero), ``int.from_bytes`` for the rest."""
    n = len(w)
    if n == 0:
        return []
    low = np.ascontiguousarray(w[:, 24:]).view(">i8" if signed else ">u8").reshape(n)
    high = w[:, :24]
    if signed:
        neg = w[:, 24] >= 0x80
        fits = np.where(neg, (high == 0xFF).all(axis=1), ~high.any(axis=1))
    else:
        fits = ~high.any(axis=1)
    n_bad = n - int(np.count_nonzero(fits))
    if n_bad == 0:
        return low.tolist()
    fb = int.from_bytes
    if n_bad * 4 > n:  # mostly wide values (e.g. 30-decimal USD): all with int.from_bytes
        raw = np.ascontiguousarray(w).tobytes()
        if signed:
            return [fb(raw[i : i + 32], "big", signed=True) for i in range(0, 32 * n, 32)]
        return [fb(raw[i : i + 32], "big") for i in range(0, 32 * n, 32)]
    out = low.tolist()
    bad = np.flatnonzero(~fits)
    raw = np.ascontiguousarray(w[bad]).tobytes()
    for k, i in enumerate(bad.tolist()):
        out[i] = fb(raw[32 * k : 32 * k + 32], "big", signed=signed)
    return out


def hex_rows(a: np.ndarray) -> list[str]:
    """(N, k) uint8 -> ['0x' + 2k hex chars]: one ``.hex()`` over the whole block."""
    n = len(a)
    if n == 0:
        return []
    width = 2 * a.shape[1]
    h = np.ascontiguousarray(a).tobytes().hex()
    return ["0x" + h[i : i + width] for i in range(0, n * width, width)]


# -- results ------------------------------------------------------------------------------------


@dataclass
class DecodedTable:
    """The rows of one landing table: ``rows`` index the input batch; ``columns`` are the
    event columns (``spec.fields`` order), each as long as ``rows``."""

    spec: EventSpec
    rows: np.ndarray
    columns: dict[str, Column]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def table(self) -> str:
        return self.spec.table

    def copy_rows(self, batch: LogBatch, contract_id: str) -> list[tuple]:
        """Tuples in ``spec.column_names`` order (metadata first) for ``COPY``."""
        idx = self.rows
        pick = idx.tolist()
        n = len(pick)
        meta = [
            [batch.chain_id] * n,
            [contract_id] * n,
            batch.block_number[idx].tolist(),
            batch.log_index[idx].tolist(),
            [batch.tx_hash[i] for i in pick],
            batch.tx_index[idx].tolist() if len(batch.tx_index) == len(batch) else [None] * n,
        ]
        cols = [self.columns[f.column].to_pylist() for f in self.spec.fields]
        return list(zip(*meta, *cols))


@dataclass
class DecodeResult:
    tables: list[DecodedTable] = field(default_factory=list)
    quarantine: list[tuple[int, str]] = field(default_factory=list)

    def table(self, name: str) -> DecodedTable | None:
        return next((t for t in self.tables if t.spec.table == name), None)

    @property
    def n_decoded(self) -> int:
        return sum(len(t) for t in self.tables)


# -- decode ---------------------------------------------------------------------------------------


def _pick(seq: list, idx: list[int]) -> list:
    if not idx:
        return []
    if len(idx) == 1:
        return [seq[idx[0]]]
    return list(operator.itemgetter(*idx)(seq))


def decode(batch: LogBatch, specs: Mapping[str, EventSpec]) -> DecodeResult:
    """Decode every log of ``batch`` with ``specs`` (``{topic0: EventSpec}``, e.g.
    :func:`specs_for_row` of the registry row the logs belong to)."""
    n = len(batch)
    result = DecodeResult()
    if n == 0:
        return result
    first = next(iter(specs.values()), None)
    where = f"{first.platform} {first.version}" if first else "this contract (no event specs)"
    codes: dict[str | None, int] = {}
    topics = batch.topics
    code_arr = np.fromiter(
        (codes.setdefault(t[0] if t else None, len(codes)) for t in topics), dtype=np.int64, count=n
    )
    if len(codes) == 1:
        groups = {next(iter(codes)): np.arange(n, dtype=np.int64)}
    else:
        order = np.argsort(code_arr, kind="stable")
        bounds = np.flatnonzero(np.diff(code_arr[order])) + 1
        by_code = {int(code_arr[g[0]]): g for g in np.split(order, bounds)}
        groups = {t: by_code[c] for t, c in codes.items()}

    by_spec: dict[int, tuple[EventSpec, list[np.ndarray]]] = {}
    for t0, rows in groups.items():
        spec = None
        if t0 is not None:
            spec = specs.get(t0)
            if spec is None and isinstance(t0, str):
                spec = specs.get(t0.lower())
        if spec is None:
            reason = "log has no topics" if t0 is None else f"unknown topic0 {t0} for {where}"
            result.quarantine.extend((i, reason) for i in rows.tolist())
            continue
        by_spec.setdefault(id(spec), (spec, []))[1].append(rows)
    gmx = _GmxBuilder()
    for spec, parts in by_spec.values():
        rows = parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))
        if spec.decoder == STATIC:
            _decode_static(batch, rows, spec, result)
        elif spec.decoder == ABI:
            _decode_abi(batch, rows, spec, result)
        elif spec.decoder == GMX_EVENT_LOG:
            gmx.add(batch, rows, spec, result)
        else:
            raise ValueError(f"{spec!r}: decoder {spec.decoder!r} cannot take logs by topic0")
    result.tables.extend(gmx.tables())
    result.tables.sort(key=lambda t: (t.spec.table, int(t.rows[0]) if len(t.rows) else -1))
    result.quarantine.sort()
    return result


# -- static layout: numpy ------------------------------------------------------------------------


def _parse_topics(hexes: list[str]) -> tuple[np.ndarray | None, np.ndarray]:
    """(N, 32) words of 0x-hex topics; second value: mask of rows that did not parse."""
    n = len(hexes)
    bad = np.zeros(n, dtype=bool)
    try:
        if all(len(h) == 66 for h in hexes):
            raw = bytes.fromhex("".join([h[2:] for h in hexes]))
            return np.frombuffer(raw, _U8).reshape(n, 32), bad
    except ValueError:
        pass
    out = np.zeros((n, 32), _U8)
    for i, h in enumerate(hexes):
        try:
            if len(h) != 66 or not h.startswith(("0x", "0X")):
                raise ValueError
            out[i] = np.frombuffer(bytes.fromhex(h[2:]), _U8)
        except ValueError:
            bad[i] = True
    return out, bad


def _check_word(f: Field, w: np.ndarray) -> np.ndarray | None:
    """Mask of rows whose word is not a valid encoding of ``f`` (None: all valid)."""
    kind = f.kind
    if kind == "uint":
        if f.bits == 256:
            return None
        return w[:, : 32 - f.bits // 8].any(axis=1)
    if kind == "int":
        if f.bits == 256:
            return None
        k = 32 - f.bits // 8
        neg = w[:, k] >= 0x80
        return np.where(neg, ~(w[:, :k] == 0xFF).all(axis=1), w[:, :k].any(axis=1))
    if kind == "address":
        return w[:, :12].any(axis=1)
    if kind == "bool":
        return w[:, :31].any(axis=1) | (w[:, 31] > 1)
    if kind == "fixed_bytes":
        return w[:, f.size :].any(axis=1) if f.size < 32 else None
    return None  # hash: any 32 bytes


_WHAT = {
    "uint": "value out of range for {t}", "int": "value out of range for {t}",
    "address": "non-zero padding for address", "bool": "bool is neither 0 nor 1",
    "fixed_bytes": "non-zero padding for {t}",
}


def _word_column(f: Field, w: np.ndarray) -> Column:
    kind = f.kind
    if kind == "uint":
        if f.bits <= 64:
            low = np.ascontiguousarray(w[:, 24:]).view(">u8").reshape(len(w))
            if f.bits <= 56:
                return Column("int64", low.astype(np.int64))
            return Column("uint64", low.astype(np.uint64))
        return Column("word", w)
    if kind == "int":
        if f.bits <= 64:
            return Column("int64", np.ascontiguousarray(w[:, 24:]).view(">i8").reshape(len(w)).astype(np.int64))
        return Column("word", w, signed=True)
    if kind == "bool":
        return Column("bool", w[:, 31] == 1)
    if kind == "address":
        return Column("hex", w[:, 12:])
    if kind == "fixed_bytes":
        return Column("hex", w[:, : f.size])
    return Column("hex", w)  # hash


def _decode_static(batch: LogBatch, rows: np.ndarray, spec: EventSpec, result: DecodeResult) -> None:
    idx = rows.tolist()
    n = len(idx)
    topics = _pick(batch.topics, idx)
    data = _pick(batch.data, idx)
    size = spec.data_size
    n_topics = np.fromiter(map(len, topics), dtype=np.int64, count=n)
    lens = np.fromiter(map(len, data), dtype=np.int64, count=n)
    bad_topics = n_topics != spec.n_topics
    bad_len = lens != size
    bad = bad_topics | bad_len
    reasons: dict[int, str] = {}
    if bad.any():
        for k in np.flatnonzero(bad).tolist():
            if bad_topics[k]:
                reasons[k] = f"expected {spec.n_topics} topics, got {n_topics[k]} ({spec.event})"
            else:
                reasons[k] = f"data is {lens[k]} bytes, {spec.event} needs {size}"
        ok = np.flatnonzero(~bad).tolist()
        topics = [topics[k] for k in ok]
        data = [data[k] for k in ok]
        keep = np.flatnonzero(~bad)
    else:
        keep = np.arange(n)
    m = len(keep)
    words = np.frombuffer(b"".join(data), _U8).reshape(m, size // 32, 32) if size else np.zeros((m, 0, 32), _U8)
    topic_words: dict[int, np.ndarray] = {}
    bad2 = np.zeros(m, dtype=bool)
    why: dict[int, str] = {}
    for f in spec.fields:
        if f.indexed:
            if f.slot not in topic_words:
                tw, unparsed = _parse_topics([t[f.slot] for t in topics])
                topic_words[f.slot] = tw
                if unparsed.any():
                    for k in np.flatnonzero(unparsed & ~bad2).tolist():
                        why[k] = f"topics[{f.slot}] is not a 32-byte hex string ({spec.event})"
                    bad2 |= unparsed
            w = topic_words[f.slot]
        else:
            w = words[:, f.slot, :]
        invalid = _check_word(f, w)
        if invalid is not None and invalid.any():
            new = invalid & ~bad2
            msg = _WHAT[f.kind].format(t=f.abi_type)
            for k in np.flatnonzero(new).tolist():
                why[k] = f"{spec.event}.{f.path}: {msg}"
            bad2 |= invalid
    if bad2.any():
        for k, msg in why.items():
            reasons[int(keep[k])] = msg
        good = ~bad2
        keep = keep[good]
        words = words[good]
        topic_words = {s: tw[good] for s, tw in topic_words.items()}
    for k, msg in reasons.items():
        result.quarantine.append((int(rows[k]), msg))
    if not len(keep):
        return
    columns = {}
    for f in spec.fields:
        w = topic_words[f.slot] if f.indexed else words[:, f.slot, :]
        columns[f.column] = _word_column(f, w)
    result.tables.append(DecodedTable(spec, rows[keep], columns))


# -- other ABI events: eth_abi per log ------------------------------------------------------------


def _word_value(f: Field, raw: bytes) -> Any:
    """One 32-byte topic as the column wants it, checked like the static layout."""
    w = np.frombuffer(raw, _U8).reshape(1, 32)
    invalid = _check_word(f, w)
    if invalid is not None and invalid[0]:
        raise ValueError(_WHAT[f.kind].format(t=f.abi_type))
    return _word_column(f, w).to_pylist()[0]


def _accessors(spec: EventSpec) -> list[tuple[Field, tuple[int, ...]]]:
    """(field, index path into eth_abi's decoded tuple) of every non-indexed field."""
    out = []
    fields = iter(f for f in spec.fields if not f.indexed)
    pos = 0

    def walk(t, path):
        if t.base == "tuple":
            for j, (_, ct) in enumerate(t.components):
                yield from walk(ct, (*path, j))
        else:
            yield path, t

    for _, t, indexed in spec.params:
        if indexed:
            continue
        for path, lt in walk(t, (pos,)):
            out.append((next(fields), path, lt))
        pos += 1
    return out


def _decode_abi(batch: LogBatch, rows: np.ndarray, spec: EventSpec, result: DecodeResult) -> None:
    types = spec.data_types
    access = _accessors(spec)
    indexed = [f for f in spec.fields if f.indexed]
    values: dict[str, list] = {f.column: [] for f in spec.fields}
    kept: list[int] = []
    for i in rows.tolist():
        topics = batch.topics[i]
        if len(topics) != spec.n_topics:
            result.quarantine.append((i, f"expected {spec.n_topics} topics, got {len(topics)} ({spec.event})"))
            continue
        try:
            decoded = eth_abi.decode(types, batch.data[i])
            row: list[tuple[str, Any]] = []
            for f in indexed:
                h = topics[f.slot]
                if len(h) != 66:
                    raise ValueError(f"topics[{f.slot}] is not a 32-byte hex string")
                raw = bytes.fromhex(h[2:])
                row.append((f.column, "0x" + raw.hex() if f.kind == "hash" else _word_value(f, raw)))
            for f, path, lt in access:
                v = decoded
                for j in path:
                    v = v[j]
                v = to_python(v, lt)
                row.append((f.column, pg_safe(v) if f.kind in ("string", "json") else v))
        except Exception as exc:  # noqa: BLE001 - eth_abi raises many kinds; each is a reason
            result.quarantine.append((i, f"{spec.event}: {type(exc).__name__}: {exc}"))
            continue
        kept.append(i)
        for col, v in row:
            values[col].append(v)
    if kept:
        result.tables.append(DecodedTable(
            spec, np.asarray(kept, dtype=np.int64), {c: Column("object", v) for c, v in values.items()}
        ))


# -- GMX v2 EventEmitter --------------------------------------------------------------------------


_NUMERIC = {"uint", "int"}  # both numeric(78,0): a key that moves between them keeps its column


class _GmxBuilder:
    """Rows of the GMX v2 landing tables, gathered over the EventLog/1/2 groups."""

    def __init__(self) -> None:
        self.rows: dict[int, list[int]] = defaultdict(list)
        self.values: dict[int, dict[str, list]] = {}
        self.specs: dict[int, EventSpec] = {}

    def _target(self, spec: EventSpec) -> tuple[list[int], dict[str, list]]:
        key = id(spec)
        if key not in self.specs:
            self.specs[key] = spec
            self.values[key] = {f.column: [] for f in spec.fields}
        return self.rows[key], self.values[key]

    def add(self, batch: LogBatch, rows: np.ndarray, spec: EventSpec, result: DecodeResult) -> None:
        kind = spec.event
        generic = spec.generic
        routes = spec.routes
        for i in rows.tolist():
            try:
                ev = decode_event_log(kind, batch.topics[i], batch.data[i])
            except EventLogDataError as exc:
                result.quarantine.append((i, f"{kind}: {exc}"))
                continue
            except Exception as exc:  # noqa: BLE001 - a malformed log never crashes a run
                result.quarantine.append((i, f"{kind}: {type(exc).__name__}: {exc}"))
                continue
            target = routes.get(ev.event_name, generic)
            out_rows, cols = self._target(target)
            out_rows.append(i)
            cols["event_name"].append(pg_safe(ev.event_name))
            cols["msg_sender"].append(ev.msg_sender)
            cols["topic1"].append(ev.topic1)
            cols["topic2"].append(ev.topic2)
            if target is generic:
                cols["items"].append(pg_safe({k: json_item(v) for k, v in ev.items.items()}))
                continue
            items = target.item_fields
            extra = {}
            seen = set()
            for key, value in ev.items.items():
                f = items.get(key)
                if f is not None and (ev.groups[key] == f.group or _NUMERIC == {ev.groups[key], f.group}):
                    cols[f.column].append(pg_safe(value) if f.group == "string" else value)
                    seen.add(f.column)
                else:
                    extra[key] = json_item(value)
            for f in target.fields:
                if f.kind == "item" and f.column not in seen:
                    cols[f.column].append(None)
            cols["extra"].append(pg_safe(extra) if extra else None)

    def tables(self) -> Iterator[DecodedTable]:
        for key, spec in self.specs.items():
            rows = np.asarray(self.rows[key], dtype=np.int64)
            order = np.argsort(rows, kind="stable")
            if (order == np.arange(len(rows))).all():
                cols = {c: Column("object", v) for c, v in self.values[key].items()}
            else:
                pick = order.tolist()
                cols = {c: Column("object", [v[j] for j in pick]) for c, v in self.values[key].items()}
                rows = rows[order]
            yield DecodedTable(spec, rows, cols)

