"""Historical ingestion against a real dev chain and a real PostgreSQL."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from copytrade.chain.chains import chain_config
from copytrade.chain.rpc import ChainIdMismatch
from copytrade.indexer import ingest as ingest_module
from copytrade.indexer.health import coverage, decode_accounting
from copytrade.indexer.ingest import ingest_partition
from copytrade.indexer.ranges import ranges_through
from copytrade.venues.registry import RegistryRow
from tests.indexer.conftest import truncate_raw

SPAN = chain_config(31337).partition_span


def ingest_all(db, rpc, rows, head=None):
    head = rpc.block_number() if head is None else head
    results = []
    for row in rows:
        for rng in ranges_through(head, SPAN, row.from_block):
            results.append(ingest_partition(db, rpc, row, rng, head))
    return results


def warehouse_state(db) -> dict:
    """Everything ingestion writes, as comparable Python values."""
    logs = db.execute(
        "SELECT chain_id, contract_id, block_number, log_index, block_hash, tx_hash, topic0, md5(data)"
        " FROM raw.event_logs ORDER BY chain_id, block_number, log_index"
    ).fetchall()
    blocks = db.execute("SELECT number, hash, timestamp FROM raw.blocks ORDER BY number").fetchall()
    quarantine = db.execute("SELECT block_number, log_index, reason FROM raw.quarantine ORDER BY 1, 2").fetchall()
    landing = {}
    for (table,) in db.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'raw' AND tablename LIKE '%\\_\\_%' ORDER BY 1"
    ).fetchall():
        rows = db.execute(f'SELECT md5(string_agg(t::text, \'|\' ORDER BY t.block_number, t.log_index)), count(*) FROM raw."{table}" t').fetchone()
        if rows[1]:
            landing[table] = rows
    return {"logs": logs, "blocks": blocks, "quarantine": quarantine, "landing": landing}


def chain_logs_in_registry(rpc, rows, head):
    """(block, log_index) of every log on chain that a registry row covers."""
    expected = set()
    for row in rows:
        end = head if row.to_block is None else min(row.to_block, head)
        batch = rpc.get_logs(row.address, row.from_block, end)
        expected |= set(zip(batch.block_number.tolist(), batch.log_index.tolist()))
    return expected


def test_backfill_lands_every_log_once_with_exact_times(db, rpc, rows, devchain):
    chain, manifest = devchain
    head = rpc.block_number()
    results = ingest_all(db, rpc, rows, head)
    assert sum(r.logs for r in results) > 300
    stored = db.execute("SELECT block_number, log_index FROM raw.event_logs").fetchall()
    assert len(stored) == len(set(stored)) == sum(r.logs for r in results)
    assert set(stored) == chain_logs_in_registry(rpc, rows, head)
    # logs before the GMX v1 vault's indexed range were emitted but are not ingested
    before = db.execute(
        "SELECT count(*) FROM raw.event_logs WHERE contract_id = 'gmx_v1.devchain.vault' AND block_number < %s",
        (manifest["milestones"]["indexed_from_block"],),
    ).fetchone()[0]
    assert before == 0
    genesis = manifest["chain"]["genesis_time"]
    off_grid = db.execute(
        "SELECT count(*) FROM raw.blocks WHERE timestamp <> %s + 12 * number OR block_time <> to_timestamp(timestamp)",
        (genesis,),
    ).fetchone()[0]
    assert off_grid == 0
    orphans = db.execute(
        "SELECT count(*) FROM raw.event_logs l LEFT JOIN raw.blocks b ON b.chain_id = l.chain_id AND b.number = l.block_number"
        " WHERE b.number IS NULL OR b.hash <> l.block_hash"
    ).fetchone()[0]
    assert orphans == 0
    for row in rows:
        account = decode_accounting(db, row)
        assert account.ok and account.quarantined == 0, account
        assert coverage(db, row).ok
    # every in-range action of the ground truth is a stored log of the right contract
    with (chain.ground_truth_dir / "actions.csv").open() as fh:
        anchors = {(a["tx_hash"], int(a["log_index"]), a["contract_id"]) for a in csv.DictReader(fh) if a["in_indexed_range"] == "1"}
    stored_anchors = set(db.execute("SELECT tx_hash, log_index, contract_id FROM raw.event_logs").fetchall())
    assert anchors and anchors <= stored_anchors
    versions = Counter(c for _, _, c in anchors)
    assert versions["gtrade_v9.devchain.diamond"] > 0 and versions["gtrade_v10.devchain.diamond"] > 0


def test_rematerializing_and_crashing_leave_one_copy(db, rpc, rows, monkeypatch):
    head = rpc.block_number()
    ingest_all(db, rpc, rows, head)
    before = warehouse_state(db)
    row = next(r for r in rows if r.contract_id == "gmx_v2.devchain.event_emitter")
    rng = ranges_through(head, SPAN, row.from_block)[0]
    ingest_partition(db, rpc, row, rng, head)
    ingest_partition(db, rpc, row, rng, head)
    assert warehouse_state(db) == before

    def crash(*args, **kwargs):
        raise RuntimeError("power cut half-way through the partition")

    monkeypatch.setattr(ingest_module, "_upsert_blocks", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        ingest_partition(db, rpc, row, rng, head)
    monkeypatch.undo()
    assert warehouse_state(db) == before
    ingest_partition(db, rpc, row, rng, head)
    assert warehouse_state(db) == before


def test_chain_id_mismatch_is_refused_and_writes_nothing(db, rpc, rows):
    head = rpc.block_number()
    ingest_all(db, rpc, rows, head)
    before = warehouse_state(db)
    row = rows[0]
    wrong = RegistryRow(**(row.as_dict() | {"chain_id": 42161, "contract_id": "wrong.chain"}))
    with pytest.raises(ChainIdMismatch, match="42161"):
        ingest_partition(db, rpc, wrong, ranges_through(head, SPAN, wrong.from_block)[0], head)
    assert warehouse_state(db) == before


def test_range_outside_contract_lands_empty_without_rpc(db, rows):
    v9 = next(r for r in rows if r.contract_id == "gtrade_v9.devchain.diamond")
    beyond = ranges_through(v9.to_block + 2 * SPAN, SPAN, v9.to_block + 2 * SPAN)[0]

    class NoRpc:
        def __getattr__(self, name):
            raise AssertionError(f"the RPC was used ({name}) for a range outside the contract")

    result = ingest_partition(db, NoRpc(), v9, beyond, beyond.end + 10)
    assert result.logs == 0 and result.from_block is None and "outside" in result.skipped


def test_growing_head_partition_marks_only_new_blocks_changed(db, rpc, rows):
    """changed_from (what dbt's incremental windows re-read): the whole range on a first write,
    only the blocks past the previous end when the head partition grows, the whole range again
    when a stored block's hash changed."""
    truncate_raw(db)
    head = rpc.block_number()
    row = next(r for r in rows if r.contract_id == "gmx_v1.devchain.vault")
    rng = ranges_through(head, SPAN, row.from_block)[0]
    mid = (row.from_block + head) // 2

    def changed_from() -> int:
        return db.execute(
            "SELECT changed_from FROM raw.ingested_ranges WHERE contract_id = %s", (row.contract_id,)
        ).fetchone()[0]

    ingest_partition(db, rpc, row, rng, mid)
    assert changed_from() == row.from_block
    ingest_partition(db, rpc, row, rng, head)
    assert changed_from() == mid + 1
    ingest_partition(db, rpc, row, rng, head)
    assert changed_from() == head + 1
    some_block = db.execute(
        "SELECT min(block_number) FROM raw.event_logs WHERE contract_id = %s", (row.contract_id,)
    ).fetchone()[0]
    db.execute("UPDATE raw.blocks SET hash = '0xdead' WHERE chain_id = 31337 AND number = %s", (some_block,))
    ingest_partition(db, rpc, row, rng, head)
    assert changed_from() == row.from_block
