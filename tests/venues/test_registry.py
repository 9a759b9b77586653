"""The contract registry: the repo's rows load, and bad rows are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from copytrade.venues.registry import Registry, RegistryError, RegistryRow, load_registry, validate


def row(cid: str, start: int, end: int | None, address: str = "0x" + "aa" * 20, **kw) -> RegistryRow:
    return RegistryRow(contract_id=cid, platform="gtrade", version=kw.pop("version", "v9"), chain_id=kw.pop("chain_id", 1),
                       address=address, from_block=start, to_block=end, abi="gtrade/GNSMultiCollatDiamond_v9.events.abi.json", **kw)


def test_repo_registry_is_valid():
    reg = load_registry()
    assert len(reg.rows) >= 10
    ids = {r.contract_id for r in reg.rows}
    assert {"gmx_v1.arbitrum.vault", "gmx_v2.arbitrum.event_emitter", "gtrade_v9.arbitrum.diamond",
            "gtrade_v10.arbitrum.diamond", "synthetix_perps_v2.optimism.ethperp"} <= ids
    # the parser is chosen by block: gTrade's diamond is v9 then v10 at one address
    diamond = reg.get("gtrade_v9.arbitrum.diamond").address
    assert reg.resolve(42161, diamond, 364_917_632).version == "v9"
    assert reg.resolve(42161, diamond, 364_917_633).version == "v10"
    assert reg.resolve(42161, diamond, 1) is None
    assert reg.resolve(42161, diamond.upper().replace("0X", "0x"), 364_917_633).contract_id == "gtrade_v10.arbitrum.diamond"


def test_overlap_is_refused_naming_both_rows():
    with pytest.raises(RegistryError) as err:
        validate([row("a.v9", 10, 100), row("a.v10", 100, None, version="v10")])
    assert "a.v9" in str(err.value) and "a.v10" in str(err.value) and "overlapping" in str(err.value)
    with pytest.raises(RegistryError, match="overlapping"):
        validate([row("open", 10, None), row("later", 500, 600)])


def test_other_errors_are_refused():
    with pytest.raises(RegistryError, match="duplicate contract_id"):
        validate([row("x", 1, 2), row("x", 5, 6, address="0x" + "bb" * 20)])
    with pytest.raises(RegistryError, match="to_block is before from_block"):
        validate([row("x", 10, 5)])
    with pytest.raises(RegistryError, match="ABI file"):
        validate([RegistryRow("x", "gmx", "v1", 1, "0x" + "aa" * 20, 1, None, "nope.json")])
    with pytest.raises(RegistryError, match="not a 20-byte"):
        validate([row("x", 1, 2, address="0x1234")])


def test_gaps_are_reported_not_refused():
    gaps = validate([row("a", 10, 99), row("b", 200, None, version="v10")])
    assert len(gaps) == 1 and "100 blocks" in gaps[0] and "a" in gaps[0]
    # different chains never overlap
    assert validate([row("c1", 1, None), row("c2", 1, None, chain_id=2)]) == []


def test_devchain_rows_are_merged(tmp_path: Path):
    (tmp_path / "devchain").mkdir()
    (tmp_path / "devchain" / "registry.yaml").write_text(yaml.safe_dump([row("gmx_v1.devchain.vault", 5, None, chain_id=31337).as_dict()]))
    reg = load_registry(tmp_path)
    assert reg.get("gmx_v1.devchain.vault").chain_id == 31337
    assert isinstance(reg, Registry) and 31337 in reg.chains()
