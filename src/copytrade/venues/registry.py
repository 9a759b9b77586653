"""The contract registry: which contract version emitted a log at (chain, address, block).

Rows live in ``registry.yaml`` beside this module (mainnet) and in
``$COPYTRADE_HOME/devchain/registry.yaml`` (the dev chain, written by ``copytrade devchain``).
:func:`validate` refuses what would make a log ambiguous or unparseable — two rows of one
address whose block ranges overlap, duplicate ids, inverted ranges, unknown ABI files —
naming the rows, and reports the gaps between consecutive rows of one address.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).parent
ABIS = HERE / "abis"
REPO_REGISTRY = HERE / "registry.yaml"


class RegistryError(ValueError):
    """The registry is inconsistent; the message names the offending rows."""


@dataclass(frozen=True)
class RegistryRow:
    """One contract version over one block range on one chain (DESIGN.md §4)."""

    contract_id: str  # stable slug, e.g. gmx_v1.arbitrum.vault
    platform: str  # gmx | gtrade | synthetix
    version: str  # v1, v2, v9, v10, perps_v2, ...
    chain_id: int
    address: str  # 0x-prefixed, lower case
    from_block: int
    to_block: int | None  # inclusive; None = still live
    abi: str  # path under copytrade/venues/abis
    status: str = ""  # historical | live (derived from to_block when empty)
    contract: str = ""  # the venue's own contract name, e.g. Vault
    approx: bool = False  # from_block is an indexing hint, not the deploy block
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", self.address.lower())
        if not self.status:
            object.__setattr__(self, "status", "live" if self.to_block is None else "historical")

    def covers(self, block: int) -> bool:
        return self.from_block <= block and (self.to_block is None or block <= self.to_block)

    def describe(self) -> str:
        end = "…" if self.to_block is None else f"{self.to_block:,}"
        return f"{self.contract_id} (chain {self.chain_id}, {self.address}, blocks {self.from_block:,}–{end})"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Registry:
    rows: list[RegistryRow]
    gaps: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_key: dict[tuple[int, str], list[RegistryRow]] = defaultdict(list)
        for row in sorted(self.rows, key=lambda r: r.from_block):
            self._by_key[(row.chain_id, row.address)].append(row)
        self._starts = {k: [r.from_block for r in v] for k, v in self._by_key.items()}
        self._by_id = {r.contract_id: r for r in self.rows}

    def get(self, contract_id: str) -> RegistryRow:
        try:
            return self._by_id[contract_id]
        except KeyError:
            raise KeyError(f"no contract {contract_id!r} in the registry") from None

    def resolve(self, chain_id: int, address: str, block: int) -> RegistryRow | None:
        """The row whose range holds ``block`` for this address, or None."""
        key = (chain_id, address.lower())
        rows = self._by_key.get(key)
        if not rows:
            return None
        i = bisect.bisect_right(self._starts[key], block) - 1
        return rows[i] if i >= 0 and rows[i].covers(block) else None

    def for_chain(self, chain_id: int) -> list[RegistryRow]:
        return [r for r in self.rows if r.chain_id == chain_id]

    def chains(self) -> list[int]:
        return sorted({r.chain_id for r in self.rows})


def read_rows(path: Path) -> list[RegistryRow]:
    data = yaml.safe_load(path.read_text()) or []
    rows = []
    for i, item in enumerate(data):
        try:
            rows.append(RegistryRow(**item))
        except TypeError as exc:
            raise RegistryError(f"{path}: row #{i + 1} ({item.get('contract_id', '?')}): {exc}") from exc
    return rows


def validate(rows: Iterable[RegistryRow]) -> list[str]:
    """Raise :class:`RegistryError` on inconsistent rows; return the gaps found."""
    rows = list(rows)
    problems: list[str] = []
    seen: dict[str, RegistryRow] = {}
    for row in rows:
        if row.contract_id in seen:
            problems.append(f"duplicate contract_id: {seen[row.contract_id].describe()} and {row.describe()}")
        seen[row.contract_id] = row
        if row.to_block is not None and row.to_block < row.from_block:
            problems.append(f"{row.describe()}: to_block is before from_block")
        if not (ABIS / row.abi).is_file():
            problems.append(f"{row.describe()}: ABI file {row.abi} not found under {ABIS}")
        if not (row.address.startswith("0x") and len(row.address) == 42):
            problems.append(f"{row.contract_id}: address {row.address!r} is not a 20-byte hex address")
    by_key: dict[tuple[int, str], list[RegistryRow]] = defaultdict(list)
    for row in rows:
        by_key[(row.chain_id, row.address)].append(row)
    gaps = []
    for group in by_key.values():
        group.sort(key=lambda r: r.from_block)
        for a, b in zip(group, group[1:]):
            if a.to_block is None or b.from_block <= a.to_block:
                problems.append(f"overlapping block ranges for one address: {a.describe()} and {b.describe()}")
            elif b.from_block > a.to_block + 1:
                gaps.append(
                    f"gap of {b.from_block - a.to_block - 1:,} blocks between {a.describe()} and {b.describe()}"
                )
    if problems:
        raise RegistryError("invalid contract registry:\n  " + "\n  ".join(problems))
    return gaps


def load_registry(home: Path | None = None, extra: Iterable[Path] = ()) -> Registry:
    """The repo's rows plus the dev chain's (when ``home`` has them), validated."""
    paths = [REPO_REGISTRY, *extra]
    if home is not None and (home / "devchain" / "registry.yaml").is_file():
        paths.append(home / "devchain" / "registry.yaml")
    rows = [row for path in paths for row in read_rows(path)]
    gaps = validate(rows)
    return Registry(rows, gaps)
