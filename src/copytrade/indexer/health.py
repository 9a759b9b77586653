"""What the warehouse holds vs what it should: coverage, reorgs, decode accounting.

These back the Dagster asset checks and the reorg repair; each is a plain query (plus, for
reorgs, block headers from the RPC) that tests can call directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from copytrade.indexer.ranges import BlockRange, range_of
from copytrade.venues.spec import tables_for_row
from copytrade.venues.registry import RegistryRow


@dataclass(frozen=True)
class Coverage:
    contract_id: str
    expected_from: int
    ingested_to: int | None  # highest block ingested, None if nothing yet
    gaps: list[tuple[int, int]]  # inclusive block ranges never ingested below ingested_to

    @property
    def ok(self) -> bool:
        return self.ingested_to is not None and not self.gaps


def coverage(conn: psycopg.Connection, row: RegistryRow) -> Coverage:
    """Gaps between the contract's from_block and the highest block ingested so far."""
    ranges = conn.execute(
        "SELECT from_block, to_block FROM raw.ingested_ranges WHERE contract_id = %s ORDER BY from_block",
        (row.contract_id,),
    ).fetchall()
    if not ranges:
        return Coverage(row.contract_id, row.from_block, None, [])
    gaps = []
    cursor = row.from_block
    top = None
    for start, end in ranges:
        if start > cursor:
            gaps.append((cursor, start - 1))
        cursor = max(cursor, end + 1)
        top = end if top is None else max(top, end)
    return Coverage(row.contract_id, row.from_block, top, gaps)


def missing_partitions(cov: Coverage, span: int) -> list[str]:
    """The block-range partition keys that hold the coverage gaps."""
    keys = []
    for start, end in cov.gaps:
        rng = range_of(start, span)
        while rng.start <= end:
            keys.append(rng.key)
            rng = BlockRange(rng.end + 1, rng.end + span)
    return sorted(set(keys))


@dataclass(frozen=True)
class DecodeAccount:
    contract_id: str
    raw: int
    decoded: int
    quarantined: int

    @property
    def ok(self) -> bool:
        return self.raw == self.decoded + self.quarantined


def decode_accounting(conn: psycopg.Connection, row: RegistryRow) -> DecodeAccount:
    """Every raw log of the contract is either in a landing table or in the quarantine."""
    cid = row.contract_id
    raw = conn.execute("SELECT count(*) FROM raw.event_logs WHERE contract_id = %s", (cid,)).fetchone()[0]
    quarantined = conn.execute("SELECT count(*) FROM raw.quarantine WHERE contract_id = %s", (cid,)).fetchone()[0]
    tables = sorted(tables_for_row(row))
    existing = {
        r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = ANY(%s)",
            (tables,),
        )
    }
    decoded = 0
    for table in sorted(existing):
        decoded += conn.execute(
            sql.SQL("SELECT count(*) FROM raw.{} WHERE contract_id = %s").format(sql.Identifier(table)), (cid,)
        ).fetchone()[0]
    return DecodeAccount(cid, raw, decoded, quarantined)


def stored_block_hashes(conn: psycopg.Connection, chain_id: int, since: int = 0) -> dict[int, str]:
    """Hashes of the stored blocks that hold at least one stored log."""
    rows = conn.execute(
        "SELECT b.number, b.hash FROM raw.blocks b WHERE b.chain_id = %s AND b.number >= %s AND EXISTS"
        " (SELECT 1 FROM raw.event_logs l WHERE l.chain_id = b.chain_id AND l.block_number = b.number)"
        " ORDER BY b.number",
        (chain_id, since),
    ).fetchall()
    return dict(rows)


def reorged_blocks(conn: psycopg.Connection, rpc, chain_id: int, since: int = 0) -> list[int]:
    """Stored blocks whose hash the chain no longer has (or that the chain no longer reaches)."""
    stored = stored_block_hashes(conn, chain_id, since)
    if not stored:
        return []
    head = rpc.block_number()
    live = rpc.get_block_headers([n for n in stored if n <= head])
    return [n for n, h in stored.items() if n > head or live[n].hash != h]


def affected_partitions(
    conn: psycopg.Connection, chain_id: int, blocks: list[int], span: int
) -> set[tuple[str, str]]:
    """(contract_id, block-range key) of every partition holding rows at these blocks."""
    if not blocks:
        return set()
    rows = conn.execute(
        "SELECT DISTINCT contract_id, block_number FROM raw.event_logs WHERE chain_id = %s AND block_number = ANY(%s)",
        (chain_id, blocks),
    ).fetchall()
    return {(cid, range_of(b, span).key) for cid, b in rows}


def roll_back_blocks(conn: psycopg.Connection, registry_rows: list[RegistryRow], chain_id: int, blocks: list[int]) -> int:
    """Delete every row stored at these (orphaned) blocks, in one transaction; returns logs removed.

    The affected partitions must then be re-ingested; until they are, the coverage check
    reports them (their ingested ranges are dropped too).
    """
    if not blocks:
        return 0
    first = min(blocks)
    tables = sorted({t for row in registry_rows if row.chain_id == chain_id for t in tables_for_row(row)})
    with conn.transaction():
        existing = {
            r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = ANY(%s)",
                (tables,),
            )
        }
        for table in sorted(existing):
            conn.execute(
                sql.SQL("DELETE FROM raw.{} WHERE chain_id = %s AND block_number = ANY(%s)").format(sql.Identifier(table)),
                (chain_id, blocks),
            )
        removed = conn.execute(
            "DELETE FROM raw.event_logs WHERE chain_id = %s AND block_number = ANY(%s)", (chain_id, blocks)
        ).rowcount
        conn.execute("DELETE FROM raw.quarantine WHERE chain_id = %s AND block_number = ANY(%s)", (chain_id, blocks))
        conn.execute("DELETE FROM raw.blocks WHERE chain_id = %s AND number = ANY(%s)", (chain_id, blocks))
        conn.execute(
            "DELETE FROM raw.ingested_ranges WHERE chain_id = %s AND to_block >= %s", (chain_id, first)
        )
    return removed


def forget_chain(conn: psycopg.Connection, chain_id: int) -> int:
    """Delete everything stored for a chain, in one transaction; returns logs removed.

    For a dev chain started afresh: the same chain id with other blocks. Its old rows would
    collide with the new chain's (the raw log key is chain, block, log index) and must go
    before the new chain is ingested; dbt's next incremental run drops what they fed."""
    with conn.transaction():
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'raw'"
            " AND column_name = 'chain_id' AND table_name NOT IN ('contracts', 'event_logs')"
        )]
        for table in sorted(tables):
            conn.execute(sql.SQL("DELETE FROM raw.{} WHERE chain_id = %s").format(sql.Identifier(table)), (chain_id,))
        return conn.execute("DELETE FROM raw.event_logs WHERE chain_id = %s", (chain_id,)).rowcount
