"""Reorgs and a misbehaving RPC both end with the same rows as a clean run."""

from __future__ import annotations

import pytest

from copytrade.chain.chains import chain_config
from copytrade.chain.rpc import RpcClient, RpcProtocolError
from copytrade.devchain.deploy import execute
from copytrade.devchain.markets import MARKETS
from copytrade.devchain.model import USD_E6, Action, Intent
from copytrade.devchain.reorg import ForkPoint
from copytrade.devchain.rpc import DevRpc
from copytrade.devchain.venues.gmx_v1 import GmxV1Venue
from copytrade.indexer.health import affected_partitions, reorged_blocks, roll_back_blocks
from copytrade.indexer.ingest import ingest_partition
from copytrade.indexer.ranges import BlockRange, ranges_through
from tests.chain.faulty_proxy import FaultyProxy
from tests.indexer.conftest import truncate_raw
from tests.indexer.test_ingest import ingest_all, warehouse_state

SPAN = chain_config(31337).partition_span


def emit_extra_blocks(devchain, n: int, tag: int) -> None:
    """A few more GMX v1 trades at the head of the dev chain, one block each."""
    chain, manifest = devchain
    deployment = chain.deployment()
    address = deployment["contracts"]["gmx_v1.devchain.vault"][0]
    venue = GmxV1Venue("gmx_v1.devchain.vault", "arbitrum", manifest["chain"]["genesis_time"])
    with DevRpc(chain.info().url) as rpc:
        for i in range(n):
            head = rpc.block_number()
            pos = venue.open_position("0x" + f"{tag:04x}{i:036x}", MARKETS["ETH/USD"], True)
            t = manifest["chain"]["genesis_time"] + 12 * (head + 1)
            steps = pos.apply(Intent(Action.OPEN, t, head + 1, 3_000 * 10**8, (10_000 + tag) * USD_E6, 1_000 * USD_E6))
            venue.finalize(steps)
            execute(rpc, deployment["sender"], address, "GmxV1VaultArbitrum", [s.op for s in steps])
            rpc.mine(1)


def test_reorg_is_rolled_back_and_reingested(db, rpc, rows, devchain):
    truncate_raw(db)
    with DevRpc(devchain[0].info().url) as dev:
        fork = ForkPoint(dev)
        emit_extra_blocks(devchain, 4, tag=1)
        head = rpc.block_number()
        ingest_all(db, rpc, rows, head)
        orphaned = set(range(fork.block + 1, head + 1))
        vault = next(r for r in rows if r.contract_id == "gmx_v1.devchain.vault")
        extra = len(rpc.get_logs(vault.address, fork.block + 1, head))
        assert extra >= 4 * 3  # CollectMarginFees, IncreasePosition, UpdatePosition (+ funding)
        assert db.execute("SELECT count(*) FROM raw.event_logs WHERE block_number > %s", (fork.block,)).fetchone()[0] == extra
        # the chain forks: the 4 blocks are replaced, two of them by other trades
        fork.reorg(2)
        emit_extra_blocks(devchain, 2, tag=2)
    assert rpc.block_number() == head
    bad = reorged_blocks(db, rpc, 31337)
    assert set(bad) == orphaned
    parts = affected_partitions(db, 31337, bad, SPAN)
    assert parts == {("gmx_v1.devchain.vault", ranges_through(head, SPAN, head)[0].key)}
    assert roll_back_blocks(db, rows, 31337, bad) == extra
    by_id = {r.contract_id: r for r in rows}
    for cid, key in parts:
        ingest_partition(db, rpc, by_id[cid], BlockRange.parse(key), head)
    assert reorged_blocks(db, rpc, 31337) == []
    # the re-ingested partition is marked changed from its start (dbt re-reads it whole)
    assert db.execute("SELECT changed_from FROM raw.ingested_ranges WHERE contract_id = 'gmx_v1.devchain.vault'"
                      ).fetchone()[0] <= fork.block + 1
    repaired = warehouse_state(db)
    truncate_raw(db)
    ingest_all(db, rpc, rows, head)
    assert warehouse_state(db) == repaired
    # the replacement trades are in, the orphaned ones are not
    sizes = [r[0] for r in db.execute(
        "SELECT size_delta FROM raw.gmx_v1__increase_position WHERE block_number > %s ORDER BY block_number", (fork.block,)
    )]
    assert sizes == [10_002 * 10**30, 10_002 * 10**30]


def test_faulty_rpc_ends_with_the_clean_rows(db, rpc, rows, devchain):
    truncate_raw(db)
    head = rpc.block_number()
    ingest_all(db, rpc, rows, head)
    clean = warehouse_state(db)
    truncate_raw(db)
    url = devchain[0].info().url
    with FaultyProxy(url, seed=3, p_429=0.15, p_5xx=0.15, p_delay=0.05, delay=0.6, p_empty=0.05,
                     p_invalid_json=0.05, max_logs_span=700, range_error="mixed") as proxy:
        with RpcClient(proxy.url, timeout=0.4, backoff_base=0.001, backoff_max=0.01, max_retries=30,
                       use_finalized_tag=False, rng_seed=1) as flaky:
            ingest_all(db, flaky, rows, head)
            assert flaky.stats.retries > 0 and flaky.stats.splits > 0
        assert proxy.counts["429"] > 0 and proxy.injected() > 10
    assert warehouse_state(db) == clean


def test_malformed_rpc_fails_clearly_and_writes_nothing(db, rpc, rows, devchain):
    truncate_raw(db)
    head = rpc.block_number()
    ingest_all(db, rpc, rows, head)
    before = warehouse_state(db)
    row = next(r for r in rows if r.contract_id == "gmx_v2.devchain.event_emitter")
    rng = ranges_through(head, SPAN, row.from_block)[0]
    with FaultyProxy(devchain[0].info().url, p_invalid_json=1.0) as proxy:
        with RpcClient(proxy.url, backoff_base=0.001, backoff_max=0.01, max_retries=3, use_finalized_tag=False) as broken:
            with pytest.raises(RpcProtocolError, match="eth_chainId|eth_getLogs"):
                ingest_partition(db, broken, row, rng, head)
    assert warehouse_state(db) == before


def test_truncated_log_data_is_quarantined_not_lost(db, rpc, rows, devchain):
    """A provider that truncates one log's data: the log is kept, quarantined with the reason."""
    truncate_raw(db)
    head = rpc.block_number()
    row = next(r for r in rows if r.contract_id == "gmx_v1.devchain.vault")
    rng = ranges_through(head, SPAN, row.from_block)[0]
    import orjson

    def truncate_first(request, body):
        if isinstance(request, dict) and request.get("method") == "eth_getLogs":
            doc = orjson.loads(body)
            if doc.get("result"):
                doc["result"][0]["data"] = doc["result"][0]["data"][:-64]
                return orjson.dumps(doc)
        return None

    with FaultyProxy(devchain[0].info().url, mutate=truncate_first) as proxy:
        with RpcClient(proxy.url, use_finalized_tag=False, initial_span=SPAN) as client:
            result = ingest_partition(db, client, row, rng, head)
    assert result.quarantined == 1 and result.logs == result.decoded + 1
    (reason,) = [r[0] for r in db.execute("SELECT reason FROM raw.quarantine")]
    assert "bytes" in reason and "needs" in reason
    assert db.execute("SELECT count(*) FROM raw.event_logs WHERE contract_id = %s", (row.contract_id,)).fetchone()[0] == result.logs
