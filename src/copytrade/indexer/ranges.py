"""Block-range partitions: fixed spans per chain, keys that sort as numbers sort."""

from __future__ import annotations

from dataclasses import dataclass

from copytrade.venues.registry import RegistryRow


@dataclass(frozen=True, order=True)
class BlockRange:
    start: int
    end: int  # inclusive

    @property
    def key(self) -> str:
        return f"{self.start:010d}-{self.end:010d}"

    @classmethod
    def parse(cls, key: str) -> BlockRange:
        try:
            start, end = (int(part) for part in key.split("-"))
        except ValueError:
            raise ValueError(f"block range key {key!r} is not <start>-<end>") from None
        if end < start:
            raise ValueError(f"block range key {key!r} ends before it starts")
        return cls(start, end)

    def clamp(self, row: RegistryRow, safe_head: int) -> tuple[int, int] | None:
        """The part of this range the contract version covers, up to the safe head."""
        start = max(self.start, row.from_block)
        end = min(self.end, safe_head, row.to_block if row.to_block is not None else self.end)
        return (start, end) if start <= end else None


def range_of(block: int, span: int) -> BlockRange:
    start = block // span * span
    return BlockRange(start, start + span - 1)


def ranges_through(head: int, span: int, first: int = 0) -> list[BlockRange]:
    """Every range from the one holding ``first`` to the one holding ``head``."""
    if head < first:
        return []
    return [BlockRange(s, s + span - 1) for s in range(first // span * span, head + 1, span)]
