"""Event specs: one typed landing table per event signature, derived from the official ABIs.

Every event of the ABI file of a registry row gets an :class:`EventSpec` (cached per ABI
path, platform and version): its canonical signature and topic0, its columns (:class:`Field`)
and the name of its landing table. :func:`specs_for_row` gives ``{topic0: EventSpec}`` for
one registry row; :func:`landing_specs` every landing table of a set of rows, checked.

Columns. Tuples are flattened to ``<param>_<component>`` columns (nested tuples likewise:
``values_price_impact_price_after_impact``); arrays become ``jsonb``; an indexed
string / bytes / array / tuple is the keccak hash in its topic (``text``). Names are the ABI
names in snake_case (``collateralAmount`` -> ``collateral_amount``); a name that is a
PostgreSQL reserved word (``user``, ``order``, ...) or a metadata column gets a trailing
``_`` (``user_``); a clash after snake-casing gets ``_2``, ``_3``. Types: uint8..uint24 and
int8..int32 -> integer, uint32..uint56 and int40..int64 -> bigint, uint64 -> numeric(20,0),
wider integers -> numeric(78,0), address -> text (0x + 40 lower-case hex), bool -> boolean,
bytesN -> text (0x hex), bytes -> bytea, string -> text, arrays -> jsonb (integers in it as
decimal strings, bytes as 0x hex, tuples as objects by component name).

Table names. ``<platform>_<version>__<event_name_in_snake_case>`` with the version's
non-alphanumerics turned into ``_``: ``gmx_v1__increase_position``,
``gtrade_v9__market_executed``, ``gtrade_v6_4__market_executed``,
``synthetix_perps_v2__position_modified_9``. A *family* is one (platform, version): the ABI
files the repo registry (``registry.yaml``) uses for it, plus the one at hand. When the
family holds more than one signature for an event name (GMX v1 ``UpdatePosition`` with 7 or
8 args, Synthetix ``PositionModified`` 8 / 9, ``PositionLiquidated`` 6 / 8,
``FundingRecomputed`` 3 / 4, ``PositionFlagged`` 4 / 5), every one of them gets the suffix
``_<number of args>``; should two of them have as many args, ``_<n>_<first 8 hex of topic0>``.
Names longer than PostgreSQL's 63 bytes are cut and end in 8 hex of their sha1.

GMX v2's EventEmitter: ``EventLog`` / ``EventLog1`` / ``EventLog2`` carry an ``EventLogData``
decoded by key name. ``PositionIncrease``, ``PositionDecrease`` and
``PositionFeesCollected`` land in typed tables (``gmx_v2__position_increase``, ...: the
union of the keys of every layout in ``position_event_layouts_by_commit.json``, nullable,
plus ``extra`` jsonb with any key not known there); every other event name lands in
``gmx_v2__event_log`` (event_name, msg_sender, topic1, topic2, items jsonb). These routed
specs have ``topic0 = None`` and ``event_name_hash = keccak(eventName)``. A known key that
arrives in another item group lands in ``extra`` too (uint <-> int excepted: both numeric).

Anonymous events (no topic0 to find them by) get no spec; the venues' ABIs have none.
"""

from __future__ import annotations

from hashlib import sha1

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path

from copytrade.venues.abi import (
    EVENT_LOG_TOPICS,
    GROUP_ABI_TYPE,
    ITEM_GROUPS,
    PG_RESERVED,
    AbiType,
    event_name_hash,
    keccak_hex,
    parse_param,
    pg_type,
    snake,
)
from copytrade.venues.registry import ABIS, REPO_REGISTRY, RegistryRow, read_rows


class SpecError(ValueError):
    """ABIs that do not make a consistent set of landing tables."""


# Standard metadata columns of every landing table, first, in this order.
METADATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("chain_id", "integer"),
    ("contract_id", "text"),
    ("block_number", "bigint"),
    ("log_index", "integer"),
    ("tx_hash", "text"),
    ("tx_index", "integer"),
)
METADATA_NAMES = frozenset(name for name, _ in METADATA_COLUMNS)
PRIMARY_KEY = ("chain_id", "block_number", "log_index")
MAX_IDENT = 63

# decoders
STATIC = "static"  # every non-indexed leaf is one static word: bulk numpy
ABI = "abi"  # anything else: eth_abi per log
GMX_EVENT_LOG = "gmx_v2_event_log"  # EventLog/1/2: hand-written EventLogData decoder, routed
GMX_ROUTED = "gmx_v2_routed"  # the landing specs those route to (never keyed by topic0)

GMX_V2_LAYOUTS = "gmx_v2/position_event_layouts_by_commit.json"
GMX_V2_POSITION_EVENTS = ("PositionIncrease", "PositionDecrease", "PositionFeesCollected")
# PositionFeesCollected: what the dev-chain emulator emits (PositionEventUtils at 5371c8e9
# without referral / pro / liquidation fees) plus the referral keys of the real event.
GMX_V2_FEES_KEYS: dict[str, list[str]] = {
    "address": ["market", "collateralToken", "affiliate", "trader", "uiFeeReceiver"],
    "uint": [
        "collateralTokenPrice.min", "collateralTokenPrice.max", "tradeSizeUsd",
        "totalRebateFactor", "traderDiscountFactor", "totalRebateAmount", "traderDiscountAmount",
        "affiliateRewardAmount",
        "fundingFeeAmount", "claimableLongTokenAmount", "claimableShortTokenAmount",
        "latestFundingFeeAmountPerSize", "latestLongTokenClaimableFundingAmountPerSize",
        "latestShortTokenClaimableFundingAmountPerSize", "borrowingFeeUsd", "borrowingFeeAmount",
        "borrowingFeeReceiverFactor", "borrowingFeeAmountForFeeReceiver", "positionFeeFactor",
        "protocolFeeAmount", "positionFeeReceiverFactor", "feeReceiverAmount", "feeAmountForPool",
        "positionFeeAmountForPool", "positionFeeAmount", "totalCostAmount", "uiFeeReceiverFactor",
        "uiFeeAmount",
    ],
    "int": [],
    "bool": ["isIncrease"],
    "bytes32": ["orderKey", "positionKey", "referralCode"],
}


@dataclass(frozen=True)
class Field:
    """One column of a landing table.

    ``column``: snake_case name; ``path``: the ABI path (``t.collateralAmount``; for GMX v2
    items the key, ``indexTokenPrice.max``); ``abi_type``: canonical ABI type of the value
    (for an indexed dynamic value still its declared type, e.g. ``string``, though the
    column holds the hash); ``indexed``: comes from a topic; ``pg_type``: PostgreSQL type.
    ``kind`` says how the decoder reads it: uint | int | bool | address | fixed_bytes |
    bytes | string | json | hash (an indexed dynamic value) | item (a GMX v2 key, of
    ``group``) | meta (GMX v2 event_name / msg_sender / topic1 / topic2) | extra (jsonb of
    the GMX v2 keys no column knows). ``slot``: word index in the data (non-indexed) or
    topic index (indexed) for the static layout, -1 otherwise."""

    column: str
    path: str
    abi_type: str
    indexed: bool
    pg_type: str
    kind: str = ""
    bits: int = 0
    size: int = 0
    slot: int = -1
    group: str = ""


@dataclass(eq=False)
class EventSpec:
    """One event signature and its landing table (see the module docstring)."""

    platform: str
    version: str
    event: str
    signature: str
    topic0: str | None
    fields: tuple[Field, ...]
    table: str
    static: bool
    decoder: str
    n_topics: int = 1
    data_size: int | None = None  # bytes of data, static layout only
    abi_path: str = ""
    params: tuple[tuple[str, AbiType, bool], ...] = ()  # ABI inputs: (name, type, indexed)
    routes: Mapping[str, EventSpec] = field(default_factory=dict)  # GMX v2: eventName -> spec
    generic: EventSpec | None = None  # GMX v2: the spec of every other eventName
    event_name_hash: str | None = None  # GMX v2 routed specs: keccak(eventName)

    def __repr__(self) -> str:
        return f"EventSpec({self.platform} {self.version} {self.signature} -> {self.table})"

    @cached_property
    def item_fields(self) -> dict[str, Field]:
        """GMX v2 routed specs: key -> its column."""
        return {f.path: f for f in self.fields if f.kind == "item"}

    @property
    def n_args(self) -> int:
        return len(self.params)

    def columns(self) -> list[tuple[str, str]]:
        """The event's columns as (name, PostgreSQL type), metadata excluded."""
        return [(f.column, f.pg_type) for f in self.fields]

    @property
    def landing(self) -> tuple[EventSpec, ...]:
        """The specs of every table logs of this topic0 can land in: itself, or for GMX v2's
        EventLog/1/2 the generic table and the routed position tables."""
        if self.decoder == GMX_EVENT_LOG:
            return (self.generic, *self.routes.values())
        return (self,)

    @property
    def column_names(self) -> list[str]:
        """Every column of the landing table: metadata first, then the event's."""
        return [name for name, _ in METADATA_COLUMNS] + [f.column for f in self.fields]

    @property
    def data_types(self) -> list[str]:
        """The non-indexed ABI types, as eth_abi wants them."""
        return [t.canonical for _, t, indexed in self.params if not indexed]

    def qualified_table(self, schema: str = "raw") -> str:
        return f"{quote_ident(schema)}.{quote_ident(self.table)}"

    def create_table_sql(self, schema: str = "raw") -> str:
        """``CREATE TABLE IF NOT EXISTS`` DDL of the landing table (no other statement).

        No primary key: a landing row exists only beside its raw.event_logs row, written in
        the same transaction, whose key (chain_id, block_number, log_index) already refuses a
        second copy. Maintaining a second B-tree per row cost ~40% of the COPY here; a BRIN
        index (:meth:`create_index_sql`) serves the partition deletes by block range.
        """
        lines = []
        for name, typ in METADATA_COLUMNS:
            null = "" if name == "tx_index" else " NOT NULL"
            lines.append(f"    {quote_ident(name)} {typ}{null}")
        for f in self.fields:
            lines.append(f"    {quote_ident(f.column)} {f.pg_type}")
        return f"CREATE TABLE IF NOT EXISTS {self.qualified_table(schema)} (\n" + ",\n".join(lines) + "\n)"

    def create_index_sql(self, schema: str = "raw") -> str:
        """A BRIN index on (chain_id, block_number): logs arrive in block order, so it stays
        tiny and cheap to maintain while it prunes range deletes and scans."""
        name = self.table if len(self.table) <= 55 else self.table[:46] + "_" + sha1(self.table.encode()).hexdigest()[:8]
        return (
            f"CREATE INDEX IF NOT EXISTS {quote_ident(name + '_brin')} ON {self.qualified_table(schema)}"
            f" USING brin ({', '.join(PRIMARY_KEY[:2])})"
        )


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def canonical_signature(event: dict) -> str:
    return f"{event['name']}({','.join(parse_param(p).canonical for p in event['inputs'])})"


def family_prefix(platform: str, version: str) -> str:
    prefix = snake(f"{platform}_{version}".replace(".", "_"))
    return prefix


def _limit(name: str) -> str:
    if len(name) <= MAX_IDENT:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return name[: MAX_IDENT - 9] + "_" + digest


# -- columns ------------------------------------------------------------------------------------


class _Names:
    """Unique column names within one table."""

    def __init__(self) -> None:
        self.used: set[str] = set(METADATA_NAMES)

    def take(self, base: str) -> str:
        name = base
        if name in PG_RESERVED or name in METADATA_NAMES:
            name += "_"
        name = _limit(name)
        if name in self.used:
            k = 2
            while _limit(f"{name}_{k}") in self.used:
                k += 1
            name = _limit(f"{name}_{k}")
        self.used.add(name)
        return name


def _leaf_kind(t: AbiType, indexed: bool) -> str:
    if indexed and (t.is_dynamic or t.base in ("tuple", "array")):
        return "hash"
    if t.base == "array":
        return "json"
    return t.base


def _event_fields(params: list[tuple[str, AbiType, bool]]) -> tuple[tuple[Field, ...], bool, int]:
    """The columns of an event; whether its layout is static; its data size in bytes."""
    names = _Names()
    fields: list[Field] = []
    static = True
    word = 0
    topic = 1

    def leaves(path: list[str], t: AbiType, indexed: bool):
        if t.base == "tuple" and not indexed:
            for cname, ct in t.components:
                yield from leaves([*path, cname], ct, indexed)
        else:
            yield path, t

    for name, t, indexed in params:
        if indexed:
            kind = _leaf_kind(t, True)
            fields.append(Field(
                names.take(snake(name)), name, t.canonical, True, pg_type(t, True), kind,
                t.bits, t.size, topic,
            ))
            topic += 1
            continue
        for path, lt in leaves([name], t, False):
            kind = _leaf_kind(lt, False)
            column = names.take("_".join(snake(p) for p in path))
            slot = -1
            if static and lt.is_elementary and not t.is_dynamic:
                slot = word
                word += 1
            else:
                static = False
            fields.append(Field(column, ".".join(path), lt.canonical, False, pg_type(lt), kind, lt.bits, lt.size, slot))
    if not static:
        fields = [Field(**{**f.__dict__, "slot": -1}) if not f.indexed else f for f in fields]
    return tuple(fields), static, word * 32


# -- families and names -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _repo_families() -> dict[tuple[str, str], tuple[str, ...]]:
    fam: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in read_rows(REPO_REGISTRY):
        fam[(row.platform, row.version)].add(row.abi)
    return {k: tuple(sorted(v)) for k, v in fam.items()}


@cache
def _load_abi(abi_path: str) -> tuple[dict, ...]:
    path = ABIS / abi_path
    data = json.loads(path.read_text())
    if isinstance(data, dict) and "abi" in data:
        data = data["abi"]
    if not isinstance(data, list):
        raise SpecError(f"{abi_path}: not an ABI (a JSON list of fragments)")
    return tuple(e for e in data if isinstance(e, dict) and e.get("type") == "event")


def _shape(event: dict) -> tuple:
    return (canonical_signature(event), tuple((p.get("name", ""), bool(p.get("indexed"))) for p in event["inputs"]))


def _table_names(prefix: str, events_by_name: Mapping[str, list[dict]]) -> dict[tuple, str]:
    """shape -> table name, over a family's events grouped by name."""
    out: dict[tuple, str] = {}
    for name, events in events_by_name.items():
        shapes = sorted({_shape(e) for e in events})
        base = f"{prefix}__{snake(name)}"
        if len(shapes) == 1:
            out[shapes[0]] = _limit(base)
            continue
        sigs = {s[0] for s in shapes}
        if len(sigs) < len(shapes):
            raise SpecError(
                f"{prefix}: event {name} has one signature with different parameter names or"
                f" indexed flags in the family's ABIs: {sorted(shapes)}"
            )
        n_args = [len(s[1]) for s in shapes]
        by_n = defaultdict(int)
        for n in n_args:
            by_n[n] += 1
        for shape, n in zip(shapes, n_args):
            suffix = f"_{n}" if by_n[n] == 1 else f"_{n}_{keccak_hex(shape[0])[2:10]}"
            out[shape] = _limit(base + suffix)
    return out


def _family_events(platform: str, version: str, abi_path: str, extra: tuple[dict, ...]) -> dict[str, list[dict]]:
    paths = set(_repo_families().get((platform, version), ())) | {abi_path}
    by_name: dict[str, list[dict]] = defaultdict(list)
    for p in sorted(paths):
        events = extra if p == abi_path else _load_abi(p)
        for e in events:
            by_name[e["name"]].append(e)
    return by_name


# -- specs ------------------------------------------------------------------------------------


def specs_from_abi(
    events: Iterable[dict], platform: str, version: str, abi_path: str = "<inline>"
) -> tuple[EventSpec, ...]:
    """The specs of the event fragments ``events`` (the ABI file at ``abi_path``), named
    within the family (platform, version)."""
    events = tuple(e for e in events if e.get("type", "event") == "event")
    prefix = family_prefix(platform, version)
    names = _table_names(prefix, _family_events(platform, version, abi_path, events))
    is_emitter = platform == "gmx" and version == "v2" and all(
        e["name"] in EVENT_LOG_TOPICS for e in events
    ) and bool(events)
    gmx = _gmx_v2_landing(prefix) if is_emitter else None
    out = []
    for e in events:
        if e.get("anonymous"):
            continue  # no topic0 to find it by (none in the venues' ABIs)
        params = tuple(
            (p.get("name") or f"arg{i}", parse_param(p), bool(p.get("indexed")))
            for i, p in enumerate(e["inputs"])
        )
        signature = canonical_signature(e)
        n_topics = 1 + sum(1 for *_, ix in params if ix)
        if gmx is not None:
            routes, generic = gmx
            out.append(EventSpec(
                platform, version, e["name"], signature, keccak_hex(signature), generic.fields,
                generic.table, False, GMX_EVENT_LOG, n_topics, None, abi_path, params,
                routes=routes, generic=generic,
            ))
            continue
        fields, static, size = _event_fields(list(params))
        out.append(EventSpec(
            platform, version, e["name"], signature, keccak_hex(signature), fields,
            names[_shape(e)], static, STATIC if static else ABI, n_topics,
            size if static else None, abi_path, params,
        ))
    return tuple(out)


@cache
def specs_for_abi(abi_path: str, platform: str, version: str) -> tuple[EventSpec, ...]:
    """Every event of one official ABI file (a path under ``venues/abis``), cached."""
    return specs_from_abi(_load_abi(abi_path), platform, version, abi_path)


def specs_for_row(row: RegistryRow) -> dict[str, EventSpec]:
    """``{topic0: EventSpec}`` of the ABI of one registry row (topic0 lower-case 0x hex)."""
    return dict(_by_topic0(row.abi, row.platform, row.version))


@cache
def _by_topic0(abi_path: str, platform: str, version: str) -> dict[str, EventSpec]:
    out: dict[str, EventSpec] = {}
    for spec in specs_for_abi(abi_path, platform, version):
        if spec.topic0 in out:
            raise SpecError(
                f"{abi_path}: events {out[spec.topic0].signature} and {spec.signature} share"
                f" topic0 {spec.topic0} (same types, other indexed flags)"
            )
        out[spec.topic0] = spec
    return out


def tables_for_row(row: RegistryRow) -> dict[str, EventSpec]:
    """``{table: EventSpec}`` of every landing table logs of this row can land in (GMX v2's
    routed tables included): what to create, and what to clear when re-ingesting a range."""
    return {s.table: s for spec in specs_for_row(row).values() for s in spec.landing}


def landing_specs(rows: Iterable[RegistryRow]) -> dict[str, EventSpec]:
    """``{table: EventSpec}`` of every landing table the rows' ABIs need (GMX v2's routed
    tables included); raises :class:`SpecError` when two specs would share a table with
    different columns."""
    tables: dict[str, EventSpec] = {}
    ddl: dict[str, str] = {}

    def add(spec: EventSpec, owner: str) -> None:
        sql = spec.create_table_sql()
        if spec.table in ddl and ddl[spec.table] != sql:
            raise SpecError(
                f"table {spec.table} would hold two layouts: {tables[spec.table]!r} and {spec!r} ({owner})"
            )
        if spec.table not in tables:
            tables[spec.table] = spec
            ddl[spec.table] = sql

    for row in rows:
        for spec in specs_for_row(row).values():
            for landing in spec.landing:
                add(landing, row.contract_id)
    return dict(sorted(tables.items()))


# -- GMX v2 -------------------------------------------------------------------------------------

_GMX_META = (
    Field("event_name", "eventName", "string", False, "text", "meta"),
    Field("msg_sender", "msgSender", "address", False, "text", "meta"),
    Field("topic1", "topic1", "bytes32", True, "text", "meta"),
    Field("topic2", "topic2", "bytes32", True, "text", "meta"),
)
_ITEM_PG = {
    "address": "text", "uint": "numeric(78,0)", "int": "numeric(78,0)", "bool": "boolean",
    "bytes32": "text", "bytes": "bytea", "string": "text",
}


def gmx_v2_layout_keys() -> dict[str, list[tuple[str, str]]]:
    """eventName -> [(group, key)]: the union over every layout (commits in date order) of
    PositionIncrease / PositionDecrease, plus PositionFeesCollected (GMX_V2_FEES_KEYS);
    keys in item-group order, first seen first."""
    layouts = json.loads((ABIS / GMX_V2_LAYOUTS).read_text())
    commits = sorted(layouts.values(), key=lambda c: c.get("date", ""))
    out: dict[str, list[tuple[str, str]]] = {}
    for name in GMX_V2_POSITION_EVENTS:
        if name == "PositionFeesCollected":
            by_group = {g: list(GMX_V2_FEES_KEYS.get(g, [])) for g in ITEM_GROUPS}
        else:
            by_group = {g: [] for g in ITEM_GROUPS}
            for commit in commits:
                items = commit["events"].get(name, {}).get("items", {})
                for group, pairs in items.items():
                    for _, key in sorted(pairs):
                        if key not in by_group[group]:
                            by_group[group].append(key)
        seen: dict[str, str] = {}
        keys = []
        for group in ITEM_GROUPS:
            for key in by_group[group]:
                if key in seen and seen[key] != group:
                    raise SpecError(f"GMX v2 {name}: key {key} is {seen[key]} in one layout, {group} in another")
                seen[key] = group
                keys.append((group, key))
        out[name] = keys
    return out


@cache
def _gmx_v2_landing(prefix: str) -> tuple[dict[str, EventSpec], EventSpec]:
    routes: dict[str, EventSpec] = {}
    for name, keys in gmx_v2_layout_keys().items():
        names = _Names()
        for f in _GMX_META:
            names.used.add(f.column)
        fields = list(_GMX_META)
        for group, key in keys:
            fields.append(Field(
                names.take(snake(key)), key, GROUP_ABI_TYPE[group], False, _ITEM_PG[group], "item", group=group,
            ))
        fields.append(Field(names.take("extra"), "*", "EventLogData", False, "jsonb", "extra"))
        routes[name] = EventSpec(
            "gmx", "v2", name, name, None, tuple(fields), _limit(f"{prefix}__{snake(name)}"), False,
            GMX_ROUTED, abi_path=GMX_V2_LAYOUTS, event_name_hash=event_name_hash(name),
        )
    generic = EventSpec(
        "gmx", "v2", "EventLog*", "EventLog|EventLog1|EventLog2", None,
        (*_GMX_META, Field("items", "eventData", "EventLogData", False, "jsonb", "json")),
        _limit(f"{prefix}__event_log"), False, GMX_ROUTED, abi_path="gmx_v2/EventEmitter.abi.json",
    )
    return routes, generic


def registry_abi_paths() -> list[Path]:
    """The ABI files the repo registry uses (absolute paths)."""
    return sorted({ABIS / p for paths in _repo_families().values() for p in paths})
