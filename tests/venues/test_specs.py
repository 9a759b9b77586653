"""Event specs: topic0s, columns and landing-table names derived from the official ABIs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eth_utils import keccak

from copytrade.venues.registry import ABIS, RegistryRow, load_registry
from copytrade.venues.spec import (
    GMX_EVENT_LOG,
    METADATA_COLUMNS,
    SpecError,
    gmx_v2_layout_keys,
    landing_specs,
    specs_for_abi,
    specs_for_row,
    specs_from_abi,
    tables_for_row,
)

SOL = Path(__file__).resolve().parents[2] / "src" / "copytrade" / "devchain" / "contracts"


def canonical(param: dict) -> str:
    """Independent of the code under test: the canonical type of an ABI parameter."""
    if param["type"].startswith("tuple"):
        return "(" + ",".join(canonical(c) for c in param["components"]) + ")" + param["type"][5:]
    t = param["type"]
    return re.sub(r"^(u?int)(\[|$)", r"\g<1>256\2", t)


def events_of(abi_path: str) -> list[dict]:
    return [e for e in json.loads((ABIS / abi_path).read_text()) if e.get("type") == "event"]


def registry_families() -> list[tuple[str, str, str]]:
    return sorted({(r.abi, r.platform, r.version) for r in load_registry().rows})


@pytest.mark.parametrize("abi,platform,version", registry_families())
def test_topic0_is_keccak_of_the_canonical_signature(abi, platform, version):
    events = events_of(abi)
    specs = specs_for_abi(abi, platform, version)
    assert len(specs) == len(events) > 0  # every event of the ABI gets a spec
    for event, spec in zip(events, specs):
        sig = f"{event['name']}({','.join(canonical(i) for i in event['inputs'])})"
        assert spec.signature == sig
        assert spec.topic0 == "0x" + keccak(text=sig).hex()
        assert spec.n_topics == 1 + sum(bool(i.get("indexed")) for i in event["inputs"])
        assert spec.platform == platform and spec.version == version and spec.event == event["name"]
    assert specs_for_abi(abi, platform, version) is specs  # cached


def test_topic0s_agree_with_the_venue_facts():
    reg = load_registry()
    known = json.loads((ABIS / "topic0_gmx.json").read_text())
    v1 = specs_for_row(reg.get("gmx_v1.arbitrum.vault")) | specs_for_row(reg.get("gmx_v1.avalanche.vault"))
    v2 = specs_for_row(reg.get("gmx_v2.arbitrum.event_emitter"))
    for label, fact in known.items():
        if label.startswith("GMXv1"):
            assert v1[fact["topic0"]].signature == fact["signature"], label
        elif "eventNameHash" in label:
            routed = next(iter(v2.values())).routes.get(fact["signature"])
            if routed is not None:
                assert routed.event_name_hash == fact["keccak(eventName)"]
        else:
            assert v2[fact["topic0"]].signature == fact["signature"], label
    versions = json.loads((ABIS / "gtrade" / "gains_event_versions.json").read_text())
    for entry in versions.values():
        if not isinstance(entry, dict) or "file" not in entry:
            continue
        path = f"gtrade/{entry['file']}"
        rows = [r for r in reg.rows if r.abi == path]
        if not rows:
            continue
        specs = specs_for_row(rows[0])
        for name, fact in entry["events"].items():
            assert specs[fact["topic0"]].event == name


def test_landing_tables_are_unique_and_stable():
    reg = load_registry()
    tables = landing_specs(reg.rows)
    for name, spec in tables.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*__[a-z0-9_]+", name) and len(name) <= 63, name
        cols = spec.column_names
        assert len(cols) == len(set(cols)), name
        assert all(len(c) <= 63 and re.fullmatch(r"[a-z0-9_]+", c) for c in cols), name
    # one table per (platform, version, signature): never two signatures in one table
    seen: dict[str, set] = {}
    for row in reg.rows:
        for spec in specs_for_row(row).values():
            if spec.decoder != GMX_EVENT_LOG:
                seen.setdefault(spec.table, set()).add((spec.platform, spec.version, spec.signature))
    assert all(len(v) == 1 for v in seen.values()), {k: v for k, v in seen.items() if len(v) > 1}
    expected = {
        # GMX v1 position events
        "gmx_v1__increase_position", "gmx_v1__decrease_position", "gmx_v1__liquidate_position",
        "gmx_v1__close_position", "gmx_v1__update_position_7", "gmx_v1__update_position_8",
        "gmx_v1__collect_margin_fees", "gmx_v1__update_funding_rate", "gmx_v1__update_pnl",
        # GMX v2
        "gmx_v2__position_increase", "gmx_v2__position_decrease", "gmx_v2__position_fees_collected",
        "gmx_v2__event_log",
        # gTrade v9 / v10 trade events
        *(f"gtrade_{v}__{e}" for v in ("v9", "v10") for e in (
            "market_executed", "limit_executed", "position_size_increase_executed",
            "position_size_decrease_executed", "leverage_update_executed", "gov_fee_charged",
            "trigger_fee_charged", "gns_otc_fee_charged", "g_token_fee_charged",
        )),
        "gtrade_v9__borrowing_fee_charged", "gtrade_v10__holding_fees_charged_on_trade",
        "gtrade_v10__fees_processed", "gtrade_v6_4__market_executed",
        # Synthetix Perps v2, both shapes
        "synthetix_perps_v2__position_modified_8", "synthetix_perps_v2__position_modified_9",
        "synthetix_perps_v2__position_liquidated_6", "synthetix_perps_v2__position_liquidated_8",
        "synthetix_perps_v2__funding_recomputed_3", "synthetix_perps_v2__funding_recomputed_4",
        "synthetix_perps_v2__margin_transferred",
    }
    assert expected <= set(tables), sorted(expected - set(tables))
    assert "gmx_v1__update_position" not in tables and "synthetix_perps_v2__position_modified" not in tables
    # the Arbitrum vault has 7-arg UpdatePosition, the Avalanche one 8
    arb = {s.event: s.table for s in specs_for_row(reg.get("gmx_v1.arbitrum.vault")).values()}
    ava = {s.event: s.table for s in specs_for_row(reg.get("gmx_v1.avalanche.vault")).values()}
    assert (arb["UpdatePosition"], ava["UpdatePosition"]) == ("gmx_v1__update_position_7", "gmx_v1__update_position_8")
    assert arb["IncreasePosition"] == ava["IncreasePosition"] == "gmx_v1__increase_position"
    # gTrade: v9 and v10 at one address, different tables
    v9 = specs_for_row(reg.get("gtrade_v9.arbitrum.diamond"))
    v10 = specs_for_row(reg.get("gtrade_v10.arbitrum.diamond"))
    assert {s.table for s in v9.values()}.isdisjoint({s.table for s in v10.values()})


def test_ddl():
    reg = load_registry()
    spec = next(s for s in specs_for_row(reg.get("gmx_v1.arbitrum.vault")).values() if s.event == "IncreasePosition")
    sql = spec.create_table_sql()
    assert sql.startswith('CREATE TABLE IF NOT EXISTS "raw"."gmx_v1__increase_position" (')
    assert spec.create_table_sql("other").startswith('CREATE TABLE IF NOT EXISTS "other".')
    lines = [ln.strip().rstrip(",") for ln in sql.splitlines()[1:-1]]
    assert lines[: len(METADATA_COLUMNS)] == [
        '"chain_id" integer NOT NULL', '"contract_id" text NOT NULL', '"block_number" bigint NOT NULL',
        '"log_index" integer NOT NULL', '"tx_hash" text NOT NULL', '"tx_index" integer',
    ]
    assert lines[len(METADATA_COLUMNS):] == [
        '"key" text', '"account" text', '"collateral_token" text', '"index_token" text',
        '"collateral_delta" numeric(78,0)', '"size_delta" numeric(78,0)', '"is_long" boolean',
        '"price" numeric(78,0)', '"fee" numeric(78,0)',
    ]
    assert "PRIMARY KEY" not in sql  # the raw log's key guards landing rows
    assert spec.create_index_sql() == (
        'CREATE INDEX IF NOT EXISTS "gmx_v1__increase_position_brin" ON "raw"."gmx_v1__increase_position"'
        " USING brin (chain_id, block_number)"
    )
    assert spec.columns()[0] == ("key", "text") and spec.static and spec.data_size == 288
    assert [f.path for f in spec.fields][:2] == ["key", "account"]


def test_types_flattening_and_names():
    abi = [{
        "type": "event", "name": "Everything", "anonymous": False, "inputs": [
            {"name": "user", "type": "address", "indexed": True},
            {"name": "label", "type": "string", "indexed": True},
            {"name": "u8", "type": "uint8"}, {"name": "u24", "type": "uint24"},
            {"name": "u32", "type": "uint32"}, {"name": "u56", "type": "uint56"},
            {"name": "u64", "type": "uint64"}, {"name": "u72", "type": "uint72"},
            {"name": "i32", "type": "int32"}, {"name": "i40", "type": "int40"},
            {"name": "i64", "type": "int64"}, {"name": "i128", "type": "int128"},
            {"name": "flag", "type": "bool"}, {"name": "sel", "type": "bytes4"},
            {"name": "blob", "type": "bytes"}, {"name": "text", "type": "string"},
            {"name": "ids", "type": "uint256[]"},
            {"name": "t", "type": "tuple", "components": [
                {"name": "collateralAmount", "type": "uint120"},
                {"name": "priceImpact", "type": "tuple", "components": [
                    {"name": "priceAfterImpact", "type": "uint64"}, {"name": "USDValue", "type": "int256"}]},
            ]},
            {"name": "order", "type": "uint8"}, {"name": "blockNumber", "type": "uint256"},
            {"name": "", "type": "bool"},
        ],
    }]
    (spec,) = specs_from_abi(abi, "test", "v1.2")
    assert spec.table == "test_v1_2__everything"
    assert spec.columns() == [
        ("user_", "text"), ("label", "text"), ("u8", "integer"), ("u24", "integer"),
        ("u32", "bigint"), ("u56", "bigint"), ("u64", "numeric(20,0)"), ("u72", "numeric(78,0)"),
        ("i32", "integer"), ("i40", "bigint"), ("i64", "bigint"), ("i128", "numeric(78,0)"),
        ("flag", "boolean"), ("sel", "text"), ("blob", "bytea"), ("text", "text"), ("ids", "jsonb"),
        ("t_collateral_amount", "numeric(78,0)"), ("t_price_impact_price_after_impact", "numeric(20,0)"),
        ("t_price_impact_usd_value", "numeric(78,0)"), ("order_", "integer"), ("block_number_", "numeric(78,0)"),
        ("arg20", "boolean"),
    ]
    paths = {f.column: f.path for f in spec.fields}
    assert paths["t_price_impact_price_after_impact"] == "t.priceImpact.priceAfterImpact"
    assert {f.column: f.kind for f in spec.fields}["label"] == "hash"
    assert not spec.static and spec.decoder == "abi" and spec.n_topics == 3
    (static,) = specs_from_abi([{**abi[0], "inputs": [i for i in abi[0]["inputs"] if i["name"] not in ("blob", "text", "ids", "label")]}], "test", "v1")
    assert static.static and static.data_size == 32 * (len(static.fields) - 1)
    assert [f.slot for f in static.fields][:3] == [1, 0, 1]  # topic 1, then data words 0, 1, ...


def test_same_shape_names_and_collisions():
    a = {"type": "event", "name": "Ping", "inputs": [{"name": "x", "type": "uint256", "indexed": False}]}
    b = {"type": "event", "name": "Ping", "inputs": [{"name": "x", "type": "int256", "indexed": False}]}
    c = {"type": "event", "name": "Ping", "inputs": [{"name": "x", "type": "uint256", "indexed": False},
                                                    {"name": "y", "type": "bool", "indexed": False}]}
    names = sorted(s.table for s in specs_from_abi([a, b, c], "x", "v1"))
    h = {s.signature: s.topic0[2:10] for s in specs_from_abi([a, b], "x", "v1")}
    assert names == sorted(["x_v1__ping_2", f"x_v1__ping_1_{h['Ping(uint256)']}", f"x_v1__ping_1_{h['Ping(int256)']}"])
    d = {"type": "event", "name": "Ping", "inputs": [{"name": "x", "type": "uint256", "indexed": True}]}
    with pytest.raises(SpecError, match="indexed"):
        specs_from_abi([a, d], "x", "v1")
    dup = {"type": "event", "name": "Pong", "inputs": [{"name": "fooBar", "type": "bool"}, {"name": "foo_bar", "type": "bool"}]}
    (spec,) = specs_from_abi([dup], "x", "v1")
    assert [f.column for f in spec.fields] == ["foo_bar", "foo_bar_2"]


def test_gmx_v2_position_tables_hold_every_layout_key():
    reg = load_registry()
    row = reg.get("gmx_v2.arbitrum.event_emitter")
    specs = specs_for_row(row)
    assert sorted(s.event for s in specs.values()) == ["EventLog", "EventLog1", "EventLog2"]
    assert {s.table for s in specs.values()} == {"gmx_v2__event_log"}
    tables = tables_for_row(row)
    assert set(tables) == {"gmx_v2__event_log", "gmx_v2__position_increase", "gmx_v2__position_decrease",
                           "gmx_v2__position_fees_collected"}
    layouts = json.loads((ABIS / "gmx_v2" / "position_event_layouts_by_commit.json").read_text())
    for name in ("PositionIncrease", "PositionDecrease"):
        spec = tables[f"gmx_v2__{re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower()}"]
        keys = {f.path: f for f in spec.fields if f.kind == "item"}
        union = {(g, k) for commit in layouts.values() for g, items in commit["events"][name]["items"].items() for _, k in items}
        assert {(f.group, k) for k, f in keys.items()} == union
        assert keys["indexTokenPrice.max"].column == "index_token_price_max"
        assert keys["values.priceImpactDiffUsd"].column == "values_price_impact_diff_usd" if name == "PositionDecrease" else True
        assert [f.column for f in spec.fields[:4]] == ["event_name", "msg_sender", "topic1", "topic2"]
        assert spec.fields[-1].column == "extra" and spec.fields[-1].pg_type == "jsonb"
    assert tables["gmx_v2__position_decrease"].item_fields["collateralDeltaAmount"].group == "uint"
    assert tables["gmx_v2__position_increase"].item_fields["collateralDeltaAmount"].group == "int"
    # PositionFeesCollected: every key the emulator emits has its column
    source = (SOL / "GmxV2EventEmitter.sol").read_text()
    body = source[source.index("function _emitPositionFeesCollected"): source.index("// -- PositionIncrease")]
    emitted = set(re.findall(r'(Address|Uint|Int|Bool|Bytes32)KeyValue\("([^"]+)"', body))
    fees = tables["gmx_v2__position_fees_collected"].item_fields
    assert {(g.lower(), k) for g, k in emitted} <= {(f.group, k) for k, f in fees.items()}
    assert len(emitted) == 32
    assert set(gmx_v2_layout_keys()) == {"PositionIncrease", "PositionDecrease", "PositionFeesCollected"}


def test_devchain_rows_land_in_the_repo_tables():
    """The dev chain's rows use the repo's ABIs: same families, same table names."""
    repo = landing_specs(load_registry().rows)
    for abi, platform, version in [
        ("gmx_v1/Vault.arbitrum.abi.json", "gmx", "v1"), ("gmx_v1/Vault.avalanche.abi.json", "gmx", "v1"),
        ("gmx_v2/EventEmitter.abi.json", "gmx", "v2"),
        ("gtrade/GNSMultiCollatDiamond_v9.events.abi.json", "gtrade", "v9"),
        ("gtrade/GNSMultiCollatDiamond_v10.events.abi.json", "gtrade", "v10"),
        ("synthetix_v2/PerpsV2Market.events.json", "synthetix", "perps_v2"),
    ]:
        row = RegistryRow("dev", platform, version, 31337, "0x" + "11" * 20, 0, None, abi)
        for table, spec in tables_for_row(row).items():
            assert repo[table].create_table_sql() == spec.create_table_sql()
