"""The chain reader against a seeded dev chain, directly and through a faulty proxy."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest

from copytrade.chain.logs import LogBatch, MalformedLog
from copytrade.chain.rpc import (
    BlockNotFound,
    ChainIdMismatch,
    RateLimiter,
    RpcClient,
    RpcError,
    RpcProtocolError,
    RpcUnavailable,
    _stated_limit,
    is_range_too_large,
    logs_from_rpc,
    mask_url,
    parse_logs_response,
    shared_rate_limiter,
    suggested_range,
)
from copytrade.devchain.anvil import BLOCK_TIME, CHAIN_ID
from copytrade.devchain.rpc import DevRpc
from copytrade.services.process import free_port
from tests.chain.conftest import SeededChain
from tests.chain.faulty_proxy import FaultyProxy

FAST = {"backoff_base": 0.001, "backoff_max": 0.005, "rng_seed": 1}


def plain_logs(sc: SeededChain) -> tuple[list[dict], LogBatch]:
    with DevRpc(sc.url) as rpc:
        items = rpc.get_logs(0, sc.head, sc.addresses)
    return items, LogBatch.from_rpc(CHAIN_ID, items)


def assert_same(a: LogBatch, b: LogBatch) -> None:
    assert a.chain_id == b.chain_id
    assert len(a) == len(b)
    assert a.address == b.address
    assert a.topics == b.topics
    assert a.data == b.data
    assert a.block_hash == b.block_hash
    assert a.tx_hash == b.tx_hash
    for col in ("block_number", "tx_index", "log_index"):
        x, y = getattr(a, col), getattr(b, col)
        assert x.dtype == y.dtype == np.int64, col
        assert np.array_equal(x, y), col


def assert_tiles(ranges: list[tuple[int, int]], start: int, end: int) -> None:
    assert ranges[0][0] == start and ranges[-1][1] == end
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))


@pytest.fixture(scope="module")
def reference(seeded_chain: SeededChain) -> LogBatch:
    _, batch = plain_logs(seeded_chain)
    assert len(batch) > 500  # the scenario emitted a real workload
    return batch


# -- (a) the same logs as one plain eth_getLogs ---------------------------------------------------
@pytest.mark.parametrize(
    ("initial_span", "max_span"), [(4_000, 4_000), (2_000, 100_000), (37, 600)], ids=["fixed", "adaptive", "small"]
)
def test_get_logs_equals_one_plain_call(seeded_chain, reference, initial_span, max_span):
    with RpcClient(seeded_chain.url, initial_span=initial_span, max_span=max_span) as client:
        got = client.get_logs(seeded_chain.addresses, 0, seeded_chain.head)
        assert_same(got, reference)
        assert_tiles(client.last_ranges, 0, seeded_chain.head)
        assert client.stats.splits == 0 and client.stats.retries == 0
        assert client.stats.logs == len(reference)
        assert client.stats.get_logs_chunks == len(client.last_ranges)
        if initial_span == max_span:
            assert len(client.last_ranges) == -(-(seeded_chain.head + 1) // 4_000)
        # sorted by (block, log index), one address filter works too
        order = np.lexsort((got.log_index, got.block_number))
        assert np.array_equal(order, np.arange(len(got)))
        one = seeded_chain.addresses[0]
        only = client.get_logs(one, 0, seeded_chain.head)
        assert len(only) == sum(a == one for a in reference.address) and set(only.address) <= {one}


def test_strict_parser_matches_from_rpc_and_raw_path(seeded_chain, reference):
    items, _ = plain_logs(seeded_chain)
    assert_same(logs_from_rpc(CHAIN_ID, items), reference)
    with RpcClient(seeded_chain.url) as client:
        body = client.get_logs_raw(seeded_chain.addresses, 0, seeded_chain.head)
    assert_same(parse_logs_response(body, CHAIN_ID), reference)


def test_topic_filter(seeded_chain, reference):
    topic0 = reference.topics[0][0]
    with RpcClient(seeded_chain.url) as client:
        got = client.get_logs(seeded_chain.addresses, 0, seeded_chain.head, topics=[topic0])
    rows = [i for i, t in enumerate(reference.topics) if t and t[0] == topic0]
    assert_same(got, reference.take(rows))


# -- (b) faults change nothing ----------------------------------------------------------------------
@pytest.mark.parametrize("range_error", ["plain", "alchemy", "infura", "mixed", "range", "413"])
def test_faults_do_not_change_the_logs(seeded_chain, reference, range_error):
    with FaultyProxy(
        seeded_chain.url, seed=11, p_429=0.1, p_5xx=0.1, p_delay=0.03, delay=0.6, p_empty=0.1,
        p_invalid_json=0.1, p_not_jsonrpc=0.1, max_logs_span=1_500, range_error=range_error,
    ) as proxy, RpcClient(proxy.url, timeout=0.3, max_retries=20, initial_span=400, **FAST) as client:
        for _ in range(2):  # the second pass starts from the span the first one learnt
            got = client.get_logs(seeded_chain.addresses, 0, seeded_chain.head)
            assert_same(got, reference)
            assert_tiles(client.last_ranges, 0, seeded_chain.head)
            assert all(b - a + 1 <= 1_500 for a, b in client.last_ranges)
        s = client.stats
        assert s.splits > 0 and s.retries > 0 and s.grows > 0
        assert s.requests >= s.get_logs_calls + 1  # + eth_chainId
        assert proxy.counts["too_large"] > 0
        for fault in ("429", "5xx", "empty", "invalid_json", "not_jsonrpc"):
            assert proxy.counts[fault] > 0, (fault, proxy.counts)
        if range_error == "range":
            # the stated cap is learnt once: no chunk is refused again
            assert client.range_cap == 1_500 and proxy.counts["too_large"] == 1
        if range_error in ("alchemy", "infura"):
            # the suggested end is used: the first refused chunk is followed by one of 1500 blocks
            assert any(b - a + 1 == 1_500 for a, b in client.last_ranges)


def test_faults_do_not_change_headers(seeded_chain, reference):
    numbers = sorted(set(reference.block_number.tolist()))
    with RpcClient(seeded_chain.url) as clean:
        expected = clean.get_block_headers(numbers)
    with FaultyProxy(seeded_chain.url, seed=3, p_429=0.2, p_5xx=0.2, p_empty=0.1, p_invalid_json=0.1,
                     p_not_jsonrpc=0.1) as proxy, \
            RpcClient(proxy.url, timeout=2, max_retries=30, **FAST) as client:
        for _ in range(3):
            assert client.get_block_headers(numbers) == expected
        assert client.stats.retries > 0 and proxy.injected() > 0


def test_transient_errors_exhausted_raise_rpc_unavailable(seeded_chain):
    with FaultyProxy(seeded_chain.url, p_5xx=1.0) as proxy, \
            RpcClient(proxy.url, max_retries=3, **FAST) as client:
        with pytest.raises(RpcUnavailable, match=r"eth_blockNumber at http://127\.0\.0\.1:\d+/?: gave up after 4"
                           r" attempts; last failure: HTTP 50[023]"):
            client.block_number()
        assert client.stats.requests == 4 and client.stats.retries == 3


def test_slow_big_queries_are_split(seeded_chain, reference):
    with FaultyProxy(seeded_chain.url, slow_logs_span=700, delay=0.3) as proxy, \
            RpcClient(proxy.url, timeout=0.1, initial_span=2_000, max_span=2_000, **FAST) as client:
        assert_same(client.get_logs(seeded_chain.addresses, 0, seeded_chain.head), reference)
        assert client.stats.timeouts >= client.stats.splits >= proxy.counts["slow"] > 0
        assert all(b - a + 1 <= 700 for a, b in client.last_ranges)


def test_timeouts_on_single_blocks_are_retried_then_unavailable(seeded_chain, reference):
    block = int(reference.block_number[0])
    with FaultyProxy(seeded_chain.url, p_delay=1.0, delay=0.4) as proxy, \
            RpcClient(proxy.url, timeout=0.1, max_retries=2, expected_chain_id=None, **FAST) as client:
        client._chain_id = CHAIN_ID  # skip eth_chainId (it would time out too)
        with pytest.raises(RpcUnavailable, match="timed out after 0.1s"):
            client.get_logs(seeded_chain.addresses, block, block)
        assert client.stats.timeouts == 3 and client.stats.splits == 0


# -- (c) provider messages ----------------------------------------------------------------------------
ALCHEMY = (
    "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no"
    " limit on the response size, or you can request any block range with a cap of 10K logs in the"
    " response. Based on your parameters, this block range should work: [0x4a0b30, 0x4a0f6c]"
)
INFURA = "query returned more than 10000 results. Try with this block range [0x4A0B30, 0x4A0F6C]."


def test_suggested_ranges():
    assert suggested_range(ALCHEMY) == (0x4A0B30, 0x4A0F6C)
    assert suggested_range({"code": -32602, "message": ALCHEMY}) == (0x4A0B30, 0x4A0F6C)
    assert suggested_range(INFURA) == (0x4A0B30, 0x4A0F6C)
    assert suggested_range({"code": -32005, "message": "query returned more than 10000 results",
                            "data": {"from": "0xCB5F2C", "limit": 10000, "to": "0xCB6328"}}) == (0xCB5F2C, 0xCB6328)
    assert suggested_range("query exceeds max results 10000, retry with the range 17000000-17000124") == (
        17_000_000, 17_000_124)
    assert suggested_range("query returned more than 10000 results") is None
    assert suggested_range({"code": -32000, "message": "execution reverted"}) is None


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("query returned more than 10000 results", "results"),
        (ALCHEMY, "results"),
        (INFURA, "results"),
        ("Log response size exceeded.", "results"),
        ("response size should not greater than 10000000 bytes", "results"),
        ("block range is too wide", "range"),
        ("exceed maximum block range: 5000", "range"),
        ("eth_getLogs is limited to a 10,000 range", "range"),
        ("project ID request rate exceeded", None),
        ("execution reverted", None),
        ("header not found", None),
    ],
)
def test_too_large_classification(message, kind):
    assert is_range_too_large(message) == kind
    assert is_range_too_large({"code": -32005, "message": message}) == kind


def test_mask_url():
    assert mask_url("https://arb-mainnet.g.alchemy.com/v2/AbCdEf0123456789AbCdEf0123456789") == (
        "https://arb-mainnet.g.alchemy.com/v2/***")
    assert mask_url("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef") == (
        "https://mainnet.infura.io/v3/***")
    assert mask_url("http://alice:hunter2@10.0.0.1:8545/rpc?apikey=s3cr3t&x=1") == (
        "http://alice:***@10.0.0.1:8545/rpc?apikey=***&x=***")
    assert mask_url("http://127.0.0.1:8545") == "http://127.0.0.1:8545"


# -- (d) malformed answers -------------------------------------------------------------------------------
@pytest.mark.parametrize(("fault", "why"), [("p_invalid_json", "invalid JSON"), ("p_empty", "empty response body"),
                                           ("p_not_jsonrpc", "not a JSON-RPC response")])
def test_malformed_forever_is_a_protocol_error(seeded_chain, fault, why):
    secret_url = "http://alice:hunter2@127.0.0.1:{port}/v2/AbCdEf0123456789AbCdEf0123456789"
    with FaultyProxy(seeded_chain.url, **{fault: 1.0}) as proxy, \
            RpcClient(secret_url.format(port=proxy.port), max_retries=2, **FAST) as client:
        client._chain_id = CHAIN_ID
        got = None
        with pytest.raises(RpcProtocolError) as info:
            got = client.get_logs(seeded_chain.addresses, 0, seeded_chain.head)
        assert got is None
        message = str(info.value)
        assert f"at http://alice:***@127.0.0.1:{proxy.port}/v2/***:" in message
        assert "hunter2" not in message and "AbCdEf0123" not in message
        assert "eth_getLogs" in message and "gave up after 3 attempts" in message and why in message
        assert client.stats.requests == 3 and client.stats.splits == 0
        with pytest.raises(RpcProtocolError, match=f"eth_chainId at .*{why}"):
            client.chain_id()


def _mutating(change: Callable[[list[dict]], None]) -> Callable[[Any, bytes], bytes | None]:
    def mutate(request: Any, body: bytes) -> bytes | None:
        if not isinstance(request, dict) or request.get("method") != "eth_getLogs":
            return None
        doc = orjson.loads(body)
        if not doc.get("result"):
            return None
        change(doc["result"])
        return orjson.dumps(doc)
    return mutate


def _set(field: str, value: Any) -> Callable[[list[dict]], None]:
    def change(items: list[dict]) -> None:
        items[len(items) // 2][field] = value(items[len(items) // 2][field]) if callable(value) else value
    return change


def _drop(field: str) -> Callable[[list[dict]], None]:
    def change(items: list[dict]) -> None:
        del items[-1][field]
    return change


def _second_hash(items: list[dict]) -> None:
    for a, b in itertools.pairwise(items):
        if a["blockNumber"] == b["blockNumber"]:
            b["blockHash"] = "0x" + "ab" * 32
            return
    raise AssertionError("no block with two logs")


LIES = {
    "truncated block hash": (_set("blockHash", lambda h: h[:40]), "malformed blockHash"),
    "truncated topic": (_set("topics", lambda t: [t[0][:-2], *t[1:]]), "malformed topic"),
    "odd data": (_set("data", lambda d: d + "0"), "data of odd length"),
    "non-hex data": (_set("data", lambda d: "0xzz" + d[4:]), "malformed data"),
    "data without 0x": (_set("data", lambda d: d[2:]), "malformed data"),
    "empty block number": (_set("blockNumber", "0x"), "malformed blockNumber"),
    "numeric block number": (_set("blockNumber", 12), "blockNumber is not a string"),
    "missing tx hash": (_drop("transactionHash"), "lacks the field 'transactionHash'"),
    "missing log index": (_drop("logIndex"), "lacks the field 'logIndex'"),
    "removed": (_set("removed", True), "marked removed"),
    "five topics": (_set("topics", lambda t: (t * 5)[:5]), "at most 4"),
    "outside range": (_set("blockNumber", lambda b: hex(int(b, 16) + 100_000)), "outside the requested range"),
    "unrequested address": (_set("address", "0x" + "11" * 20), "which was not requested"),
    "duplicate": (lambda items: items.append(copy.deepcopy(items[0])), "twice"),
    "two hashes for a block": (lambda items: _second_hash(items), "two block hashes"),
    "not a list": (lambda items: items.__setitem__(0, "0xdeadbeef"), "is not an object"),
}


@pytest.mark.parametrize("lie", list(LIES))
def test_lying_provider_gets_malformed_log(seeded_chain, lie):
    change, why = LIES[lie]
    with FaultyProxy(seeded_chain.url, mutate=_mutating(change)) as proxy, \
            RpcClient(proxy.url, initial_span=100_000, **FAST) as client:
        got = None
        with pytest.raises(MalformedLog, match=why):
            got = client.get_logs(seeded_chain.addresses, 0, seeded_chain.head)
        assert got is None and proxy.counts["mutated"] >= 1
        assert client.stats.logs == 0


def test_from_rpc_refuses_missing_fields_and_truncated_hex(seeded_chain):
    items, _ = plain_logs(seeded_chain)
    broken = copy.deepcopy(items[:3])
    broken[1]["logIndex"] = "0xz"
    with pytest.raises(MalformedLog):
        LogBatch.from_rpc(CHAIN_ID, broken)
    with pytest.raises(MalformedLog):
        logs_from_rpc(CHAIN_ID, broken)
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": broken})
    with pytest.raises(MalformedLog, match="log #1 of the response: malformed logIndex"):
        parse_logs_response(body, CHAIN_ID)
    with pytest.raises(RpcProtocolError, match="invalid JSON"):
        parse_logs_response(body[:-5], CHAIN_ID)
    with pytest.raises(RpcError, match="query returned more"):
        parse_logs_response(b'{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"query returned more'
                            b' than 10000 results"}}', CHAIN_ID)


def test_chain_id_mismatch(seeded_chain):
    with RpcClient(seeded_chain.url) as client:
        assert client.verify_chain_id(CHAIN_ID) == CHAIN_ID
        with pytest.raises(ChainIdMismatch, match=rf"at {seeded_chain.url}: the endpoint serves chain 31337,"
                           r" but chain 42161 is configured"):
            client.verify_chain_id(42161)
    with RpcClient(seeded_chain.url, expected_chain_id=1) as client, pytest.raises(ChainIdMismatch):
        client.get_logs(seeded_chain.addresses, 0, 10)


def test_non_transient_errors_are_not_retried(seeded_chain):
    with RpcClient(seeded_chain.url, **FAST) as client:
        with pytest.raises(RpcError, match="no_such_method") as info:
            client.call("no_such_method", [])
        assert type(info.value) is RpcError and client.stats.requests == 1
        with pytest.raises(RpcError, match="BlockOutOfRange"):
            client.get_logs(seeded_chain.addresses, seeded_chain.head + 10, seeded_chain.head + 20)
        with pytest.raises(ValueError, match="empty address filter"):
            client.get_logs([], 0, 10)
        with pytest.raises(ValueError, match="bad block range"):
            client.get_logs(seeded_chain.addresses, 10, 9)


def test_batch_results_in_order_and_item_errors(seeded_chain):
    with RpcClient(seeded_chain.url) as client:
        calls = [("eth_getBlockByNumber", [hex(n), False]) for n in range(250, 0, -1)]
        got = client.batch(calls, max_batch=40)
        assert [int(b["number"], 16) for b in got] == list(range(250, 0, -1))
        assert client.stats.requests == 7 and client.stats.calls == 250
        with pytest.raises(RpcError, match=r"no_such_method\(\)"):
            client.batch([("eth_blockNumber", []), ("no_such_method", [])])


# -- (e) the rate limit ----------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(("rate", "burst"), [(10, 1), (10, 5), (2.5, 1)])
def test_token_bucket_limits(rate, burst):
    clock = FakeClock()
    limiter = RateLimiter(rate, burst, clock=clock.time, sleep=clock.sleep)
    stamps = []
    while clock.now < 10:
        limiter.acquire()
        stamps.append(clock.now)
    for start in (0.0, 3.0, 7.5):
        in_window = sum(start <= t < start + 2 for t in stamps)
        allowed = rate * 2 + (burst if start == 0 else 1)
        assert rate * 2 - 1 <= in_window <= allowed, (start, in_window)


def test_rate_limit_through_the_client(seeded_chain):
    clock = FakeClock()
    limiter = RateLimiter(5, 1, clock=clock.time, sleep=clock.sleep)
    with RpcClient(seeded_chain.url, rate_limiter=limiter) as client:
        stamps = []
        while clock.now < 2:
            client.block_number()
            stamps.append(clock.now)
        assert sum(t < 2 - 1e-6 for t in stamps) == 10
        before = clock.now
        client.batch([("eth_blockNumber", [])] * 20)  # 20 calls in one request: 20 tokens
        client.block_number()
        assert clock.now - before == pytest.approx(21 / 5)
        assert client.stats.rate_limit_seconds > 0


def test_rate_limiter_is_shared_per_url():
    url = "http://127.0.0.1:1/shared-limit-test"
    a = RpcClient(url, requests_per_second=50)
    b = RpcClient(url, requests_per_second=20)
    c = RpcClient(url + "/other", requests_per_second=20)
    assert a._limiter is b._limiter is shared_rate_limiter(url, 100)
    assert a._limiter.rate == 20 and c._limiter is not a._limiter
    assert RpcClient(url)._limiter is None


# -- (f) headers and finality -------------------------------------------------------------------------------
def test_headers_of_blocks_with_logs(seeded_chain, reference):
    numbers = sorted(set(reference.block_number.tolist()))
    assert len(numbers) > 100
    with RpcClient(seeded_chain.url) as client:
        headers = client.get_block_headers(numbers)
        assert client.stats.requests == -(-len(numbers) // 100)
        parents = client.get_block_headers([n - 1 for n in numbers])
    assert sorted(headers) == numbers
    log_hash = dict(zip(reference.block_number.tolist(), reference.block_hash, strict=True))
    for n, h in headers.items():
        assert h.number == n
        assert h.hash == log_hash[n]
        assert h.timestamp == seeded_chain.genesis + BLOCK_TIME * n
        assert h.parent_hash == parents[n - 1].hash


def test_missing_block_is_refused(seeded_chain):
    with RpcClient(seeded_chain.url) as client:
        with pytest.raises(BlockNotFound, match=f"no block {seeded_chain.head + 5}"):
            client.get_block_headers([1, seeded_chain.head + 5])
        assert client.get_block_header(seeded_chain.head + 5) is None


def test_finalized_and_safe_head(seeded_chain):
    head = seeded_chain.head
    with RpcClient(seeded_chain.url) as client:
        assert client.block_number() == head
        # anvil answers "finalized" with head - 64 (it finalizes nothing for real)
        assert client.finalized_block().number == head - 64
        assert client.safe_head(10) == head - 64
    with RpcClient(seeded_chain.url, use_finalized_tag=False) as client:
        assert client.safe_head(10) == head - 10
        assert client.safe_head(0) == head

    def no_tag(request: Any, body: bytes) -> bytes | None:
        if isinstance(request, dict) and request.get("params", [None])[:1] == ["finalized"]:
            return orjson.dumps({"jsonrpc": "2.0", "id": request["id"],
                                 "error": {"code": -32602, "message": "invalid block tag"}})
        return None

    with FaultyProxy(seeded_chain.url, mutate=no_tag) as proxy, RpcClient(proxy.url) as client:
        assert client.finalized_block() is None
        assert client.safe_head(12) == head - 12


# -- transport details ------------------------------------------------------------------------------------
def test_gzip_answers(seeded_chain, reference):
    with FaultyProxy(seeded_chain.url, gzip=True) as proxy, RpcClient(proxy.url) as client:
        assert_same(client.get_logs(seeded_chain.addresses, 0, seeded_chain.head), reference)
        raw = client.get_logs_raw(seeded_chain.addresses, 0, seeded_chain.head)
        assert_same(parse_logs_response(raw, CHAIN_ID), reference)
        assert proxy.counts["gzipped"] > 0 and client.stats.bytes_received < len(raw)


def test_batches_shrink_when_the_provider_refuses_their_size(seeded_chain, reference):
    numbers = sorted(set(reference.block_number.tolist()))
    with RpcClient(seeded_chain.url) as clean:
        expected = clean.get_block_headers(numbers)
    with FaultyProxy(seeded_chain.url, max_batch=30) as proxy, RpcClient(proxy.url) as client:
        assert client.get_block_headers(numbers) == expected
        assert proxy.counts["batch_too_large"] >= 2  # 100 -> 50 -> 25
        assert client.stats.retries == 0


def test_429_honours_retry_after_and_backs_off_with_jitter(seeded_chain):
    sleeps: list[float] = []
    with FaultyProxy(seeded_chain.url, p_429=1.0, seed=2) as proxy, \
            RpcClient(proxy.url, max_retries=8, backoff_base=0.5, backoff_max=4.0, rng_seed=3,
                      sleep=sleeps.append) as client:
        with pytest.raises(RpcUnavailable, match="last failure: HTTP 429"):
            client.block_number()
        assert client.stats.requests == 9 and proxy.counts["429"] == 9
    # Retry-After: 0 answers are retried at once, the others after 0..min(4, 0.5 * 2**k) s
    assert 0 < len(sleeps) < 8
    assert all(0 < s <= 4.0 for s in sleeps)


def _item(**change: Any) -> dict:
    item = {
        "address": "0x" + "Ab" * 20, "topics": ["0x" + "Cd" * 32, "0x" + "00" * 32], "data": "0x0102",
        "blockNumber": "0x1a", "blockHash": "0x" + "EF" * 32, "transactionHash": "0x" + "12" * 32,
        "transactionIndex": "0x0", "logIndex": "0x3", "removed": False,
    }
    item.update(change)
    return item


def test_parser_normalizes_case_and_matches_from_rpc():
    items = [_item(), _item(logIndex="0x4", topics=[]), _item(logIndex="0x5", data="0x")]
    got = logs_from_rpc(7, items)
    assert got.address == ["0x" + "ab" * 20] * 3
    assert got.topics == [["0x" + "cd" * 32, "0x" + "00" * 32], [], ["0x" + "cd" * 32, "0x" + "00" * 32]]
    assert got.block_hash == ["0x" + "ef" * 32] * 3
    assert got.data == [b"\x01\x02", b"\x01\x02", b""]
    assert got.block_number.tolist() == [26] * 3 and got.log_index.tolist() == [3, 4, 5]
    ref = LogBatch.from_rpc(7, items)
    assert got.address == ref.address and got.data == ref.data and got.tx_hash == ref.tx_hash
    assert len(logs_from_rpc(7, [])) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"blockNumber": "1a"}, {"blockNumber": " 0x1a"}, {"blockNumber": "0x_1a"}, {"blockNumber": "-0x1"},
        {"blockNumber": "0x" + "f" * 17}, {"blockNumber": "0x8000000000000000"}, {"logIndex": "0x"},
        {"data": "0xab cd"}, {"data": "ab"}, {"data": None}, {"topics": "0x" + "00" * 32},
        {"topics": ["0x" + "00" * 31]}, {"topics": ["0x" + "00" * 32 + ",0x"]}, {"address": "0x" + "ab" * 19},
        {"address": "0x" + "ab" * 19 + "zz"}, {"blockHash": "0X" + "ab" * 32}, {"transactionHash": None},
        {"blockHash": "0x" + "ab" * 31 + "é1"},
    ],
    ids=repr,
)
def test_parser_refuses(change):
    with pytest.raises(MalformedLog, match="log #1 of the response"):
        logs_from_rpc(1, [_item(), _item(**change), _item()])


def test_nothing_listening_is_unavailable():
    client = RpcClient(f"http://127.0.0.1:{free_port()}", max_retries=2, **FAST)
    with pytest.raises(RpcUnavailable, match="gave up after 3 attempts; last failure: connection failed"):
        client.get_logs("0x" + "00" * 20, 0, 10)


def test_stated_range_limits():
    assert _stated_limit("exceed maximum block range: 5000", 8_000) == 5_000
    assert _stated_limit("eth_getLogs is limited to a 10,000 range", 20_000) == 10_000
    assert _stated_limit("eth_getLogs is limited to a 10,000 range", 8_000) is None
    assert _stated_limit("block range is too wide", 8_000) is None


def test_iter_logs_chunks_tile_the_range(seeded_chain, reference):
    with RpcClient(seeded_chain.url, initial_span=300, max_span=1_200) as client:
        chunks = list(client.iter_logs(seeded_chain.addresses, 5, seeded_chain.head))
    assert_tiles([(a, b) for a, b, _ in chunks], 5, seeded_chain.head)
    for a, b, batch in chunks:
        assert all(a <= n <= b for n in batch.block_number.tolist())
    assert_same(LogBatch.concat(CHAIN_ID, [c for _, _, c in chunks]), reference)
