"""Ingest one partition: one contract version over one block range.

fetch (adaptive eth_getLogs) -> block headers of every block with logs -> decode -> write,
the write being ONE transaction that deletes whatever the partition held before and COPYs
the new rows. Materializing a partition twice, or again after a crash half-way, therefore
leaves exactly one copy of each log; a partition past a reorg is repaired the same way.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from copytrade.chain.logs import BlockHeader, LogBatch
from copytrade.indexer.ranges import BlockRange
from copytrade.venues.decode import DecodeResult, decode
from copytrade.venues.registry import RegistryRow
from copytrade.venues.spec import METADATA_COLUMNS, EventSpec, specs_for_row, tables_for_row
from copytrade.warehouse import binary_copy as bc
from copytrade.warehouse.copy import copy_payload, copy_rows

LANDING_LOCK = 0x6C616E64  # "land": serializes CREATE TABLE IF NOT EXISTS across workers

EVENT_LOG_COLUMNS = [
    ("chain_id", "integer"), ("contract_id", "text"), ("address", "text"), ("block_number", "bigint"),
    ("block_hash", "text"), ("tx_hash", "text"), ("tx_index", "integer"), ("log_index", "integer"),
    ("topic0", "text"), ("topic1", "text"), ("topic2", "text"), ("topic3", "text"), ("data", "bytea"),
]
QUARANTINE_COLUMNS = [
    ("chain_id", "integer"), ("contract_id", "text"), ("block_number", "bigint"),
    ("log_index", "integer"), ("topic0", "text"), ("reason", "text"),
]
BLOCK_COLUMNS = [
    ("chain_id", "integer"), ("number", "bigint"), ("hash", "text"), ("parent_hash", "text"),
    ("timestamp", "bigint"), ("block_time", "timestamptz"),
]


class ChainMoved(RuntimeError):
    """Logs and headers disagree on a block hash: the chain reorganized while we read it."""


@dataclass
class IngestResult:
    contract_id: str
    chain_id: int
    partition: str
    from_block: int | None = None  # what was fetched (None: nothing to fetch)
    to_block: int | None = None
    logs: int = 0
    decoded: int = 0
    quarantined: int = 0
    blocks: int = 0
    seconds: float = 0.0
    quarantine_reasons: Counter = field(default_factory=Counter)
    by_table: Counter = field(default_factory=Counter)
    skipped: str = ""

    @property
    def logs_per_second(self) -> float:
        return self.logs / self.seconds if self.seconds > 0 else 0.0


def landing_columns(spec: EventSpec) -> list[tuple[str, str]]:
    """(name, type) of every column of the landing table, in ``spec.column_names`` order."""
    return list(METADATA_COLUMNS) + spec.columns()


def ensure_landing_tables(conn: psycopg.Connection, specs: Iterable[EventSpec]) -> None:
    """Create the landing tables of these specs if they are missing (idempotent, serialized)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LANDING_LOCK,))
        for spec in {s.table: s for s in specs}.values():
            conn.execute(spec.create_table_sql("raw"))
            conn.execute(spec.create_index_sql("raw"))


def fetch_partition(rpc, row: RegistryRow, start: int, end: int) -> tuple[LogBatch, dict[int, BlockHeader]]:
    """Logs of the contract in [start, end] and the headers of the blocks that hold them."""
    batch = rpc.get_logs(row.address, start, end)
    numbers = sorted(set(batch.block_number.tolist()))
    headers = rpc.get_block_headers(numbers) if numbers else {}
    for number, block_hash in zip(batch.block_number.tolist(), batch.block_hash):
        if headers[number].hash != block_hash:
            raise ChainMoved(
                f"block {number} of chain {row.chain_id} changed while reading it (log says {block_hash},"
                f" header says {headers[number].hash}); retry when the chain has settled"
            )
    return batch, headers


def first_changed_block(
    conn: psycopg.Connection, row: RegistryRow, fetched: tuple[int, int], batch: LogBatch,
    headers: dict[int, BlockHeader],
) -> int:
    """The first block of ``fetched`` whose stored content this write may change.

    The head partition is ingested again as the chain grows: when the previous write of the
    same range covered [from, prev_to] and the new batch holds as many logs there, in blocks
    with the same hashes, only the blocks after prev_to are new (what dbt's incremental
    windows re-read). Anything else (a reorg, a backfill, a first write) changes it whole."""
    start, end = fetched
    previous = conn.execute(
        "SELECT to_block, logs FROM raw.ingested_ranges WHERE contract_id = %s AND from_block = %s",
        (row.contract_id, start),
    ).fetchone()
    if previous is None or previous[0] > end:
        return start
    prev_to, prev_logs = previous
    kept = batch.block_number <= prev_to
    if int(kept.sum()) != prev_logs:
        return start
    numbers = sorted(set(batch.block_number[kept].tolist()))
    if numbers:
        stored = dict(conn.execute(
            "SELECT number, hash FROM raw.blocks WHERE chain_id = %s AND number = ANY(%s)", (row.chain_id, numbers)
        ).fetchall())
        if any(stored.get(number) != headers[number].hash for number in numbers):
            return start
    return prev_to + 1


def write_partition(
    conn: psycopg.Connection,
    row: RegistryRow,
    rng: BlockRange,
    fetched: tuple[int, int] | None,
    batch: LogBatch,
    headers: dict[int, BlockHeader],
    result: DecodeResult,
    tables: dict[str, EventSpec],
) -> None:
    """Replace the partition's rows in one transaction."""
    chain, cid = row.chain_id, row.contract_id
    n = len(batch)
    with conn.transaction():
        changed_from = first_changed_block(conn, row, fetched, batch, headers) if fetched else None
        params = (chain, cid, rng.start, rng.end)
        where = sql.SQL("WHERE chain_id = %s AND contract_id = %s AND block_number BETWEEN %s AND %s")
        for table in ("event_logs", "quarantine"):
            conn.execute(sql.SQL("DELETE FROM raw.{} ").format(sql.Identifier(table)) + where, params)
        for table in sorted(tables):
            conn.execute(sql.SQL("DELETE FROM raw.{} ").format(sql.Identifier(table)) + where, params)
        conn.execute(
            "DELETE FROM raw.ingested_ranges WHERE contract_id = %s AND from_block BETWEEN %s AND %s",
            (cid, rng.start, rng.end),
        )
        if n:
            block_number = batch.block_number.tolist()
            log_index = batch.log_index.tolist()
            # The server inserts the raw logs while this process builds the landing payloads
            # (a queued writer sends the COPY data from a thread): two cores, one transaction.
            with conn.cursor() as cur, cur.copy(
                sql.SQL("COPY raw.event_logs ({}) FROM STDIN (FORMAT BINARY)").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c, _ in EVENT_LOG_COLUMNS)
                ),
                writer=QueuedLibpqWriter(cur),
            ) as copy:
                copy.write(bc.HEADER)
                for chunk in event_log_payload(batch, cid):
                    copy.write(chunk)
                copy.write(bc.TRAILER)
                landing = [(table, landing_fields(table, batch, cid)) for table in result.tables]
            for table, fields in landing:
                columns = landing_columns(table.spec)
                if fields is None:  # dynamic events: row by row through psycopg
                    copy_rows(conn, "raw", table.spec.table, columns, table.copy_rows(batch, cid))
                else:
                    copy_payload(conn, "raw", table.spec.table, [c for c, _ in columns], [bc.rows(fields)])
            if result.quarantine:
                topics = batch.topics
                copy_rows(conn, "raw", "quarantine", QUARANTINE_COLUMNS, (
                    (chain, cid, block_number[i], log_index[i], topics[i][0] if topics[i] else None, reason)
                    for i, reason in result.quarantine
                ))
            _upsert_blocks(conn, chain, headers.values())
        if fetched is not None:
            # Last statement before the commit, stamped with the clock rather than the
            # transaction start: dbt's incremental windows pick up ranges committed after
            # their previous build by this time (macros/block_window.sql).
            decoded = sum(len(t.rows) for t in result.tables)
            conn.execute(
                "INSERT INTO raw.ingested_ranges (contract_id, chain_id, from_block, to_block, logs,"
                " decoded, quarantined, blocks, changed_from, ingested_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())",
                (cid, chain, fetched[0], fetched[1], n, decoded, len(result.quarantine), len(headers), changed_from),
            )


def event_log_payload(batch: LogBatch, contract_id: str) -> Iterator[bytes]:
    """raw.event_logs rows as binary COPY, built column-wise per group of equal shape
    (number of topics, data length), one chunk per group."""
    shapes: dict[tuple[int, int], list[int]] = {}
    for i, (t, d) in enumerate(zip(batch.topics, batch.data)):
        shapes.setdefault((len(t), len(d)), []).append(i)
    chain = np.int64(batch.chain_id)
    cid = contract_id.encode()
    for (n_topics, size), rows in shapes.items():
        idx = np.asarray(rows, dtype=np.int64)
        k = len(rows)
        fields = [
            bc.int4(np.full(k, chain)), bc.constant(cid, k),
            bc.ascii_strings([batch.address[i] for i in rows], 42),
            bc.int8(batch.block_number[idx]),
            bc.ascii_strings([batch.block_hash[i] for i in rows], 66),
            bc.ascii_strings([batch.tx_hash[i] for i in rows], 66),
            bc.int4(batch.tx_index[idx]), bc.int4(batch.log_index[idx]),
        ]
        for t in range(4):
            fields.append(bc.ascii_strings([batch.topics[i][t] for i in rows], 66) if t < n_topics else bc.null(k))
        data = np.frombuffer(b"".join(batch.data[i] for i in rows), np.uint8).reshape(k, size)
        fields.append(bc.raw_bytes(data))
        yield bc.rows(fields)


def landing_fields(table, batch: LogBatch, contract_id: str) -> list[np.ndarray] | None:
    """Binary COPY fields of a decoded table when every column is fixed-width, else None."""
    idx = table.rows
    k = len(idx)
    fields = [
        bc.int4(np.full(k, batch.chain_id, np.int64)), bc.constant(contract_id.encode(), k),
        bc.int8(batch.block_number[idx]), bc.int4(batch.log_index[idx]),
        bc.ascii_strings([batch.tx_hash[i] for i in idx.tolist()], 66), bc.int4(batch.tx_index[idx]),
    ]
    for f in table.spec.fields:
        col = table.columns[f.column]
        pg = f.pg_type.lower()
        if col.kind == "word" and pg.startswith("numeric"):
            fields.append(bc.numeric_words(col.data, col.signed))
        elif col.kind in ("int64", "uint64") and pg == "bigint":
            fields.append(bc.int8(col.data))
        elif col.kind in ("int64", "uint64") and pg == "integer":
            fields.append(bc.int4(col.data))
        elif col.kind == "uint64" and pg.startswith("numeric"):
            fields.append(bc.numeric_uint64(col.data))
        elif col.kind == "int64" and pg.startswith("numeric"):
            fields.append(bc.numeric_int64(col.data))
        elif col.kind == "bool" and pg == "boolean":
            fields.append(bc.boolean(col.data))
        elif col.kind == "hex" and pg == "text":
            fields.append(bc.hex_text(col.data))
        else:
            return None
    return fields


def _upsert_blocks(conn: psycopg.Connection, chain_id: int, headers: Iterable[BlockHeader]) -> None:
    """Blocks are shared by every contract of a chain: upsert through a temporary table."""
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS blocks_in (LIKE raw.blocks INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    copy_rows(conn, "pg_temp", "blocks_in", BLOCK_COLUMNS, (
        (chain_id, h.number, h.hash, h.parent_hash, h.timestamp, datetime.fromtimestamp(h.timestamp, UTC))
        for h in headers
    ))
    conn.execute(
        "INSERT INTO raw.blocks SELECT * FROM blocks_in ON CONFLICT (chain_id, number) DO UPDATE"
        " SET hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash,"
        " timestamp = EXCLUDED.timestamp, block_time = EXCLUDED.block_time"
    )


def ingest_partition(
    conn: psycopg.Connection, rpc, row: RegistryRow, rng: BlockRange, safe_head: int
) -> IngestResult:
    """Fetch, decode and land one partition. A range the contract version does not cover (or
    not yet final) lands as empty without touching the RPC."""
    started = time.perf_counter()
    out = IngestResult(row.contract_id, row.chain_id, rng.key)
    specs = specs_for_row(row)
    tables = tables_for_row(row)
    ensure_landing_tables(conn, tables.values())
    fetched = rng.clamp(row, safe_head)
    if fetched is None:
        out.skipped = "outside the contract's block range or above the safe head"
        batch, headers, result = LogBatch(row.chain_id), {}, DecodeResult([], [])
    else:
        rpc.verify_chain_id(row.chain_id)
        batch, headers = fetch_partition(rpc, row, *fetched)
        result = decode(batch, specs)
        out.from_block, out.to_block = fetched
    write_partition(conn, row, rng, fetched, batch, headers, result, tables)
    out.logs = len(batch)
    out.decoded = sum(len(t.rows) for t in result.tables)
    out.quarantined = len(result.quarantine)
    out.blocks = len(headers)
    out.quarantine_reasons = Counter(reason for _, reason in result.quarantine)
    out.by_table = Counter({t.spec.table: len(t.rows) for t in result.tables})
    out.seconds = time.perf_counter() - started
    return out
