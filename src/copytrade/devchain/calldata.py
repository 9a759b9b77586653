"""Hand-rolled ABI encoding of ``execute(Op[])`` calls whose ``Op`` is a static struct.

Every emulator contract takes one array of static structs, so a call is
``selector | 0x20 | len | op_0 words | op_1 words | ...``: 32-byte words and nothing else.
Encoding that directly is ~50x faster than eth_abi for the hundreds of thousands of ops a
large scenario sends, and needs no per-type dispatch: every field is one word, negative
integers in two's complement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from eth_utils import keccak

from copytrade.devchain.solidity import artifact

WORD_MASK = (1 << 256) - 1


def _canonical(param: dict) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_canonical(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]


@dataclass(frozen=True)
class OpLayout:
    """The field names of a contract's ``Op`` struct, in ABI order, and the call selector."""

    contract: str
    fields: tuple[str, ...]
    selector: bytes

    @property
    def width(self) -> int:
        return len(self.fields)

    def encode(self, ops: Sequence[Sequence[int]]) -> bytes:
        """Calldata for ``execute(ops)``; each op is a sequence of ints in field order."""
        width = self.width
        parts = [self.selector, (32).to_bytes(32, "big"), len(ops).to_bytes(32, "big")]
        for op in ops:
            if len(op) != width:
                raise ValueError(f"{self.contract} op has {len(op)} fields, expected {width}")
            parts.append(b"".join((v & WORD_MASK).to_bytes(32, "big") for v in op))
        return b"".join(parts)

    def row(self, **values: int) -> tuple[int, ...]:
        """An op from field names; unnamed fields are 0. Refuses names the struct lacks."""
        unknown = set(values) - set(self.fields)
        if unknown:
            raise KeyError(f"{self.contract}.Op has no field(s) {sorted(unknown)}")
        return tuple(int(values.get(name, 0)) for name in self.fields)


@cache
def op_layout(contract: str) -> OpLayout:
    abi = artifact(contract)["abi"]
    fn = next(e for e in abi if e["type"] == "function" and e["name"] == "execute")
    (param,) = fn["inputs"]
    if param["type"] != "tuple[]":
        raise TypeError(f"{contract}.execute must take one Op[] argument")
    for component in param["components"]:
        if component["type"].startswith("tuple") or component["type"] in ("bytes", "string") or component["type"].endswith("]"):
            raise TypeError(f"{contract}.Op.{component['name']} is not a static one-word field")
    signature = f"execute({_canonical(param)})"
    return OpLayout(
        contract=contract,
        fields=tuple(c["name"] for c in param["components"]),
        selector=keccak(text=signature)[:4],
    )
