"""The reader of one chain endpoint: JSON-RPC with retries, a rate limit, finality and
adaptive ``eth_getLogs``.

What a caller can rely on:

* ``RpcClient.get_logs`` returns every log of ``[from_block, to_block]`` exactly once,
  sorted by ``(block_number, log_index)``, or raises; it never returns part of a range.
  Every log is checked (well-formed hex, inside the requested range, from a requested
  address, matching the topic filter, not ``removed``, one hash per block, no duplicates):
  a provider that lies gets a :class:`MalformedLog`, and nothing is returned.
* Transient trouble (HTTP 429 / 408 / 5xx, connection errors, timeouts, rate-limit or
  "header not found" JSON-RPC errors) is retried with exponential backoff and full jitter
  (``Retry-After`` is honoured); malformed responses (empty body, invalid JSON, JSON that
  is not a JSON-RPC response) are retried the same way. When the retries are exhausted
  :class:`RpcUnavailable` / :class:`RpcProtocolError` name the URL (secrets masked), the
  method and the last failure. Other JSON-RPC errors raise :class:`RpcError` at once.
* Requests to one URL share one token bucket per process (``requests_per_second``); a
  batch of ``n`` calls takes ``n`` tokens, because providers meter calls, not requests.
* The getLogs span adapts: it starts at ``initial_span``, is halved when the provider
  finds a chunk too large (a "too many results" / "response size" / "range too wide"
  error, HTTP 413, or a timeout), jumps to the end a provider suggests (Alchemy, Infura),
  stays below a block-range cap the provider states, and doubles (up to ``max_span``)
  after ``grow_after`` successes in a row. It carries over from one call to the next.
  ``iter_logs`` yields the checked chunks one by one, for long backfills.
* ``parse_logs_response`` is the fast parse path (orjson, column-wise checks at C speed,
  the garbage collector paused for big bodies); ``get_logs_raw`` gives it raw bodies.

Finality on the dev chain: anvil 1.7 answers ``eth_getBlockByNumber("finalized")`` with
the block 64 below its head (and ``"safe"`` with head - 32), although nothing is ever
final on anvil (``anvil_reorg`` / ``evm_revert`` can rewrite those blocks). So with
``use_finalized_tag=True`` a freshly seeded dev chain exposes all but its last 64 blocks;
mine 64 more blocks, or use ``use_finalized_tag=False`` with ``confirmations=0``, to see
everything.

A client holds one keep-alive connection (plain ``http.client``: a fraction of a
general-purpose client's cost per request) and is not thread-safe: use one client per
thread; the rate limit is shared anyway.
"""

from __future__ import annotations

import base64
import email.utils
import gc
import http.client
import itertools
import operator
import random
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Self, TypeVar
from urllib.parse import unquote, urlsplit

import numpy as np
import orjson

from copytrade.chain.logs import BlockHeader, LogBatch, MalformedLog

__all__ = [
    "BlockNotFound",
    "ChainIdMismatch",
    "MalformedLog",
    "RateLimiter",
    "RpcClient",
    "RpcError",
    "RpcProtocolError",
    "RpcStats",
    "RpcUnavailable",
    "is_range_too_large",
    "logs_from_rpc",
    "mask_url",
    "parse_logs_response",
    "shared_rate_limiter",
    "suggested_range",
]

T = TypeVar("T")

# Responses bigger than this are parsed with the garbage collector paused: a getLogs body
# is hundreds of thousands of small strings, dicts and lists, and the collector would walk
# the growing heap again and again while they are created (none of them form cycles).
GC_PAUSE_BYTES = 256 * 1024


# -- errors -----------------------------------------------------------------------------------
class RpcError(RuntimeError):
    """A JSON-RPC call failed; the message names the method, the URL (masked) and why.

    Raised as such for JSON-RPC ``error`` objects that are not transient (and HTTP 4xx other
    than 408/413/429): retrying would not help.
    """

    def __init__(
        self,
        detail: str,
        *,
        url: str | None = None,
        method: str | None = None,
        code: int | None = None,
        error: Any = None,
    ) -> None:
        self.detail = detail
        self.url = url
        self.method = method
        self.code = code
        self.error = error
        where = method or "JSON-RPC"
        if url:
            where += f" at {url}"
        super().__init__(f"{where}: {detail}")


class RpcUnavailable(RpcError):
    """The endpoint kept failing transiently (429, 5xx, timeouts, connection errors,
    rate-limit errors) until the retries ran out."""


class RpcProtocolError(RpcError):
    """The endpoint's answers were not JSON-RPC (empty body, invalid JSON, wrong shape, wrong
    id, a batch missing answers, a header that does not parse) — after the retries, if any."""


class ChainIdMismatch(RpcError):
    """The endpoint serves another chain than the one configured for it."""


class BlockNotFound(RpcError):
    """The node answered ``null`` for a block that was asked for (beyond its head, pruned,
    or a lagging backend)."""


class _TooLarge(Exception):
    """Internal: eth_getLogs asked for too much; the chunk must be split."""

    def __init__(self, reason: str, kind: str, error: dict | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # "range": a fixed block-range cap; "results": count/size/time limits
        self.suggestion = suggested_range(error) if error else None
        self.stated_limit_text = _error_text(error) if error else ""


class _BatchTooLarge(Exception):
    """Internal: the provider refused the batch for its size."""


class _Malformed(Exception):
    """Internal: the body is not a JSON-RPC response."""


class _ErrorObject(Exception):
    """Internal: a JSON-RPC ``error`` object (``index``: its call in a batch)."""

    def __init__(self, error: Any, index: int | None = None) -> None:
        super().__init__(str(error))
        self.error = error if isinstance(error, dict) else {"message": str(error)}
        self.index = index


# -- classifying provider errors ---------------------------------------------------------------
_RANGE_CAP = re.compile(
    r"block range is too wide|exceeds? (?:the )?max(?:imum)? block range|max(?:imum)? block range"
    r"|block range (?:limit|too large|exceeds|is too large)|range (?:is )?too (?:large|wide|big)"
    r"|limited to a [\d,]+ (?:blocks? )?range|range exceeds|block range should not",
    re.IGNORECASE,
)
_RESULT_CAP = re.compile(
    r"query returned more than [\d,]+ results|log response size exceeded|response size"
    r"|response (?:is )?too (?:large|big)|too many (?:results|logs)|exceeds? max results"
    r"|query exceeds max results|more than [\d,]+ (?:results|logs)|try with this block range"
    r"|this block range should work|retry with the range|query timeout|timeout exceeded"
    r"|statement timeout|query timed out",
    re.IGNORECASE,
)
_TRANSIENT = re.compile(
    r"rate.?limit|too many requests|request limit|limit exceeded|exceeded .*(?:capacity|quota|"
    r"compute units|throughput|rate)|try again|temporar|timed? ?out|unavailable|overloaded|busy"
    r"|header not found|unknown block|internal error|upstream|bad gateway|gateway|capacity",
    re.IGNORECASE,
)
_BATCH_CAP = re.compile(
    r"batch (?:size )?(?:too large|limit|exceed)|too many (?:requests|calls|items) in (?:a |the )?batch"
    r"|exceeds? (?:the )?max(?:imum)? batch|batch (?:request )?size",
    re.IGNORECASE,
)
_TRANSIENT_CODES = {429, -32005, -32097, -32098, -32099}
_SUGGESTIONS = (
    # Alchemy: "... Based on your parameters, this block range should work: [0x4a0b30, 0x4a0f6c]"
    re.compile(r"block range should work:\s*\[\s*(0x[0-9a-f]+)\s*,\s*(0x[0-9a-f]+)\s*\]", re.IGNORECASE),
    # Infura: "query returned more than 10000 results. Try with this block range [0x.., 0x..]."
    re.compile(r"try with this block range\s*\[\s*(0x[0-9a-f]+)\s*,\s*(0x[0-9a-f]+)\s*\]", re.IGNORECASE),
    # Erigon-style nodes: "query exceeds max results 10000, retry with the range 17000000-17000124"
    re.compile(r"retry with the range\s*\[?\s*(\d+)\s*[-,]\s*(\d+)", re.IGNORECASE),
)


def _error_text(error: dict) -> str:
    message = error.get("message", "")
    data = error.get("data")
    text = message if isinstance(message, str) else str(message)
    if data is not None:
        text += f" {data}"
    return text


def suggested_range(error: dict | str) -> tuple[int, int] | None:
    """The block range a provider suggests in a "too many results" error, or None.

    Understands Alchemy's "this block range should work: [0x.., 0x..]", Infura's "Try with
    this block range [0x.., 0x..]" (and its older ``data: {from, to}``), and Erigon's
    "retry with the range A-B".
    """
    if isinstance(error, dict):
        data = error.get("data")
        if isinstance(data, dict) and isinstance(data.get("from"), str) and isinstance(data.get("to"), str):
            try:
                return int(data["from"], 16), int(data["to"], 16)
            except ValueError:
                pass
        text = _error_text(error)
    else:
        text = error
    for pattern in _SUGGESTIONS:
        m = pattern.search(text)
        if m:
            a, b = m.groups()
            base = 16 if a.lower().startswith("0x") else 10
            return int(a, base), int(b, base)
    return None


def is_range_too_large(error: dict | str) -> str | None:
    """``"range"`` when an eth_getLogs error is a block-range cap, ``"results"`` when it is a
    result count / response size / query time limit, None otherwise."""
    text = _error_text(error) if isinstance(error, dict) else error
    if _RANGE_CAP.search(text):
        return "range"
    if _RESULT_CAP.search(text) or (isinstance(error, dict) and suggested_range(error)):
        return "results"
    return None


def _stated_limit(text: str, width: int) -> int | None:
    """The block-range limit a "range too wide" message states ("exceed maximum block range:
    5000", "limited to a 10,000 range"): its largest number below ``width``."""
    found = []
    for digits, k in re.findall(r"(\d[\d,]*)\s*([kK]\b)?", text):
        n = int(digits.replace(",", "")) * (1000 if k else 1)
        if 1 <= n < width:
            found.append(n)
    return max(found) if found else None


def _is_transient(error: dict) -> bool:
    code = error.get("code")
    return code in _TRANSIENT_CODES or bool(_TRANSIENT.search(_error_text(error)))


# -- URLs -------------------------------------------------------------------------------------
def _looks_secret(segment: str) -> bool:
    return len(segment) >= 24 or (len(segment) >= 12 and any(c.isdigit() for c in segment)
                                  and any(c.isalpha() for c in segment))


def mask_url(url: str) -> str:
    """``url`` fit for messages and logs: the password (or a lone user name), key-like path
    segments (Alchemy ``/v2/<key>``, Infura ``/v3/<key>``) and query values become ``***``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port else "")
    if parts.username is not None:
        user = f"{parts.username}:***" if parts.password is not None else "***"
        netloc = f"{user}@{netloc}"
    path = "/".join("***" if _looks_secret(s) else s for s in parts.path.split("/"))
    query = ""
    if parts.query:
        query = "?" + "&".join(
            f"{kv.split('=', 1)[0]}=***" if "=" in kv else "***" for kv in parts.query.split("&")
        )
    return f"{parts.scheme}://{netloc}{path}{query}"


# -- rate limit -------------------------------------------------------------------------------
class RateLimiter:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up.

    ``acquire(n)`` waits until ``n`` tokens are there (or, for ``n`` above ``burst``, until
    the bucket is full, and then goes into debt), so the long-run rate never exceeds
    ``rate``. ``clock`` and ``sleep`` can be replaced (tests use a fake clock).
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self.rate = float(rate)
            self.burst = min(self.burst, max(1.0, self.rate))
            self._tokens = min(self._tokens, self.burst)

    def acquire(self, tokens: float = 1.0) -> float:
        """Take ``tokens``; returns the seconds spent waiting."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                need = min(tokens, self.burst)
                if self._tokens >= need - 1e-9:
                    self._tokens -= tokens
                    return waited
                wait = (need - self._tokens) / self.rate
            self._sleep(wait)
            waited += wait


_LIMITERS: dict[str, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_rate_limiter(url: str, requests_per_second: float) -> RateLimiter:
    """The process-wide bucket of ``url``; when clients ask for different rates the
    strictest wins."""
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(url)
        if limiter is None:
            limiter = _LIMITERS[url] = RateLimiter(requests_per_second)
        elif requests_per_second < limiter.rate:
            limiter.set_rate(requests_per_second)
        return limiter


# -- statistics -------------------------------------------------------------------------------
@dataclass
class RpcStats:
    requests: int = 0  # HTTP requests sent, retries included
    calls: int = 0  # JSON-RPC calls sent (each call of a batch counts)
    retries: int = 0  # requests repeated after a transient or malformed answer
    get_logs_calls: int = 0  # eth_getLogs requests sent, failed ones included
    get_logs_chunks: int = 0  # block ranges fetched successfully
    splits: int = 0  # chunks split because the provider found them too large
    grows: int = 0  # span doublings after consecutive successes
    timeouts: int = 0
    logs: int = 0  # logs returned by get_logs
    bytes_sent: int = 0
    bytes_received: int = 0  # response bodies as received (compressed if gzip)
    backoff_seconds: float = 0.0
    rate_limit_seconds: float = 0.0

    @property
    def bytes(self) -> int:
        return self.bytes_received

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, f.default)


# -- transport ----------------------------------------------------------------------------------
class _Http:
    """One keep-alive HTTP/1.1 connection to the endpoint."""

    def __init__(self, url: str, timeout: float, headers: Mapping[str, str] | None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {mask_url(url)}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = timeout
        self.headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Accept-Encoding": "gzip",
        }
        if parts.username is not None:
            cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self.headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        self.headers.update(headers or {})
        self._conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(self, body: bytes) -> tuple[int, dict[str, str], bytes, int]:
        """(status, lower-cased headers, body, bytes on the wire)."""
        for attempt in (0, 1):
            reused = self._conn is not None
            if self._conn is None:
                conn = self._connect()
                try:
                    conn.connect()
                except TimeoutError:
                    conn.close()
                    # not a slow answer: must not make eth_getLogs split its range
                    raise ConnectionError(f"connecting timed out after {self.timeout}s") from None
                except BaseException:
                    conn.close()
                    raise
                self._conn = conn
            conn = self._conn
            try:
                conn.request("POST", self.path, body, self.headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if reused and attempt == 0:
                    continue  # the server dropped an idle keep-alive connection: reconnect once
                raise
            except BaseException:
                self.close()  # a timed-out request may still be answered later: never reuse
                raise
            if response.will_close:
                self.close()
            headers = {k.lower(): v for k, v in response.getheaders()}
            wire = len(data)
            if headers.get("content-encoding", "").lower() == "gzip" and data:
                try:
                    data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
                except zlib.error:
                    data = b"\x00<undecodable gzip body>"
            return response.status, headers, data, wire
        raise AssertionError("unreachable")


def _snippet(data: bytes, limit: int = 200) -> str:
    text = data[:limit].decode("utf-8", "replace")
    return repr(text + ("..." if len(data) > limit else ""))


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# -- decoding -----------------------------------------------------------------------------------
def _load(data: bytes) -> Any:
    if not data.strip():
        raise _Malformed("empty response body")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _Malformed(f"invalid JSON ({exc}): {_snippet(data)}") from None


def _single(doc: Any, expected_id: Any, data: bytes) -> Any:
    if not isinstance(doc, dict) or ("result" not in doc and "error" not in doc):
        raise _Malformed(f"not a JSON-RPC response: {_snippet(data)}")
    if expected_id is not None and doc.get("id") != expected_id and doc.get("id") != str(expected_id):
        raise _Malformed(f"response id {doc.get('id')!r} does not match request id {expected_id!r}")
    error = doc.get("error")
    if error is not None:
        raise _ErrorObject(error)
    if "result" not in doc:
        raise _Malformed(f"JSON-RPC response without result: {_snippet(data)}")
    return doc["result"]


_QTY = re.compile(r"0x[0-9a-fA-F]{1,16}")
_ADDR = re.compile(r"0x[0-9a-fA-F]{40}")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_DATA = re.compile(r"0x[0-9a-fA-F]*")
_FIELDS = ("address", "topics", "data", "blockNumber", "blockHash", "transactionHash",
           "transactionIndex", "logIndex")
_GET_REMOVED = operator.methodcaller("get", "removed")
_PREFIX = operator.itemgetter(slice(0, 2))
_LOWER_HEX = b"0123456789abcdef"
_ANY_HEX = b"0123456789abcdefABCDEF"


def _first_bad(values: Sequence[Any], single: re.Pattern) -> int:
    return next((i for i, v in enumerate(values) if not (isinstance(v, str) and single.fullmatch(v))), 0)


def _bad_value(name: str, values: Sequence[Any], single: re.Pattern) -> MalformedLog:
    i = _first_bad(values, single)
    if not isinstance(values[i], str):
        return MalformedLog(f"log #{i} of the response: {name} is not a string: {values[i]!r:.140}")
    return MalformedLog(f"log #{i} of the response: malformed {name} {values[i]!r:.140}")


def _quantities(name: str, values: Sequence[Any]) -> np.ndarray:
    """Hex quantities (``0x`` + 1..16 digits, nothing else) -> int64 array.

    ``int(v, 16)`` alone would take "1a", " 0x1a", "0x_1a", "-0x1": deleting the hex digits
    from the joined bytes must leave exactly ``x,x,...,x``, and ``int`` refuses an ``x``
    anywhere but after a leading ``0`` and a bare ``0x``.
    """
    n = len(values)
    try:
        raw = ",".join(values).encode("ascii")
        if raw.translate(None, _ANY_HEX) == b"x," * (n - 1) + b"x":
            return np.fromiter(map(int, values, itertools.repeat(16)), np.int64, n)
    except OverflowError:
        i = next(i for i, v in enumerate(values) if int(v, 16) >= 2**63)
        raise MalformedLog(f"log #{i} of the response: {name} {values[i]!r} does not fit 64 bits") from None
    except (TypeError, UnicodeEncodeError, ValueError):
        pass
    raise _bad_value(name, values, _QTY)


def _fixed_hex(name: str, values: Sequence[Any], width: int) -> list[str]:
    """``values`` as a list of lower-case strings, each ``0x`` + ``width - 2`` hex digits.

    Checked on the joined bytes at C speed: the ``0x`` prefixes and the commas must sit every
    ``width + 1`` bytes, and deleting the hex digits must leave exactly ``x,x,...,x``.
    """
    n = len(values)
    if not n:
        return []
    step = width + 1
    try:
        joined = ",".join(values)
        raw = joined.encode("ascii")
    except (TypeError, UnicodeEncodeError):
        raise _bad_value(name, values, re.compile(f"0x[0-9a-fA-F]{{{width - 2}}}")) from None
    skeleton = b"x," * (n - 1) + b"x"
    if (
        len(raw) == n * step - 1
        and raw[0::step] == b"0" * n
        and raw[1::step] == b"x" * n
        and raw[width::step] == b"," * (n - 1)
    ):
        if raw.translate(None, _LOWER_HEX) == skeleton:
            return values if isinstance(values, list) else list(values)
        if raw.translate(None, _ANY_HEX) == skeleton:  # upper-case digits: normalize
            return joined.lower().split(",")
    raise _bad_value(name, values, re.compile(f"0x[0-9a-fA-F]{{{width - 2}}}"))


def _data_column(raw: Sequence[Any]) -> list[bytes]:
    """Decoded ``data`` fields. ``bytes.fromhex`` checks the hex digits and the even length
    but skips whitespace, so the decoded lengths must also add up; no regex over megabytes."""
    try:
        if set(map(_PREFIX, raw)) <= {"0x"}:
            out = [bytes.fromhex(d[2:]) for d in raw]
            if 2 * sum(map(len, out)) == sum(map(len, raw)) - 2 * len(raw):
                return out
    except (TypeError, ValueError):
        pass
    for i, d in enumerate(raw):
        if not isinstance(d, str):
            raise MalformedLog(f"log #{i} of the response: data is not a string: {d!r:.140}")
        if not _DATA.fullmatch(d):
            raise MalformedLog(f"log #{i} of the response: malformed data {d!r:.140}")
        if len(d) % 2:
            raise MalformedLog(f"log #{i} of the response: data of odd length {d!r:.140}")
    raise AssertionError("unreachable")


def logs_from_rpc(chain_id: int, items: Sequence[Any]) -> LogBatch:
    """The strict, column-wise twin of :meth:`LogBatch.from_rpc` (same result on good input).

    Besides missing fields it refuses what ``from_rpc`` lets through: truncated or non-hex
    hashes, addresses, topics and quantities, data without ``0x``, more than four topics,
    logs marked ``removed``. Hashes and topics come out lower-case (they are compared with
    lower-case constants and header hashes downstream).
    """
    if not isinstance(items, list):
        raise MalformedLog(f"the eth_getLogs result is a {type(items).__name__}, not a list")
    n = len(items)
    if not n:
        return LogBatch(chain_id)
    if set(map(type, items)) != {dict}:
        i = next(i for i, it in enumerate(items) if type(it) is not dict)
        raise MalformedLog(f"log #{i} of the response is not an object: {items[i]!r:.140}")
    try:
        # one comprehension per field: transposing with zip(*...) costs several times more
        columns = [[it[f] for it in items] for f in _FIELDS]
    except KeyError:
        i, missing = next((i, f) for i, it in enumerate(items) for f in _FIELDS if f not in it)
        raise MalformedLog(f"log #{i} of the response lacks the field {missing!r}") from None
    address, topics, raw_data, block_number, block_hash, tx_hash, tx_index, log_index = columns
    if any(map(_GET_REMOVED, items)):
        i = next(i for i, it in enumerate(items) if it.get("removed"))
        raise MalformedLog(f"log #{i} of the response is marked removed (reorged out)")

    if set(map(type, topics)) != {list} or max(map(len, topics)) > 4:
        i = next(i for i, t in enumerate(topics) if type(t) is not list or len(t) > 4)
        raise MalformedLog(
            f"log #{i} of the response: topics must be a list of at most 4, not {topics[i]!r:.140}"
        )
    flat = list(itertools.chain.from_iterable(topics))
    try:
        flat_checked = _fixed_hex("topic", flat, 66)
    except MalformedLog:
        i = next(i for i, t in enumerate(topics)
                 if not all(isinstance(h, str) and _HASH.fullmatch(h) for h in t))
        raise MalformedLog(f"log #{i} of the response: malformed topics {topics[i]!r:.200}") from None
    if flat_checked is flat:
        topic_lists = list(topics)
    else:
        it = iter(flat_checked)
        topic_lists = [[next(it) for _ in t] for t in topics]

    batch = LogBatch(chain_id)
    batch.address = _fixed_hex("address", address, 42)
    batch.topics = topic_lists
    batch.data = _data_column(raw_data)
    batch.block_number = _quantities("blockNumber", block_number)
    batch.block_hash = _fixed_hex("blockHash", block_hash, 66)
    batch.tx_hash = _fixed_hex("transactionHash", tx_hash, 66)
    batch.tx_index = _quantities("transactionIndex", tx_index)
    batch.log_index = _quantities("logIndex", log_index)
    return batch


def _decode_logs(data: bytes, chain_id: int, expected_id: Any) -> LogBatch:
    pause = len(data) > GC_PAUSE_BYTES and gc.isenabled()
    if pause:
        gc.disable()
    try:
        return logs_from_rpc(chain_id, _single(_load(data), expected_id, data))
    finally:
        if pause:
            gc.enable()


def parse_logs_response(body: bytes, chain_id: int) -> LogBatch:
    """A whole ``eth_getLogs`` HTTP response body -> LogBatch (orjson, strict checks, the
    garbage collector paused for big bodies).

    Raises :class:`RpcProtocolError` when the body is not a JSON-RPC response,
    :class:`RpcError` for an ``error`` object and :class:`MalformedLog` for a bad log.
    """
    try:
        return _decode_logs(body, chain_id, None)
    except _Malformed as exc:
        raise RpcProtocolError(str(exc), method="eth_getLogs") from None
    except _ErrorObject as exc:
        raise RpcError(_error_text(exc.error), method="eth_getLogs", code=exc.error.get("code"),
                       error=exc.error) from None


def _quantity(value: Any, what: str) -> int:
    if not isinstance(value, str) or not _QTY.fullmatch(value):
        raise _Malformed(f"{what} is not a hex quantity: {value!r:.100}")
    return int(value, 16)


def _header(obj: Any, url: str, method: str) -> BlockHeader:
    try:
        if not isinstance(obj, dict):
            raise _Malformed(f"block is not an object: {obj!r:.100}")
        number = _quantity(obj.get("number"), "block number")
        timestamp = _quantity(obj.get("timestamp"), "block timestamp")
        hashes = []
        for key in ("hash", "parentHash"):
            value = obj.get(key)
            if not isinstance(value, str) or not _HASH.fullmatch(value):
                raise _Malformed(f"block {number}: {key} is not a 32-byte hash: {value!r:.100}")
            hashes.append(value.lower())
    except _Malformed as exc:
        raise RpcProtocolError(str(exc), url=url, method=method) from None
    return BlockHeader(number=number, hash=hashes[0], parent_hash=hashes[1], timestamp=timestamp)


def _normalize_addresses(address: str | Sequence[str]) -> list[str]:
    items = [address] if isinstance(address, str) else list(address)
    if not items:
        raise ValueError("no address given: an empty address filter would match every contract")
    out = []
    for a in items:
        if not isinstance(a, str) or not _ADDR.fullmatch(a):
            raise ValueError(f"not a 20-byte 0x address: {a!r}")
        out.append(a.lower())
    return sorted(set(out))


def _normalize_topics(topics: Sequence[Any] | None) -> list[Any] | None:
    if topics is None:
        return None
    out: list[Any] = []
    for t in topics:
        if t is None:
            out.append(None)
        elif isinstance(t, str):
            out.append(t.lower())
        else:
            out.append([x.lower() for x in t])
    while out and out[-1] is None:
        out.pop()
    return out or None


def _check_scope(
    batch: LogBatch, addresses: set[str], topics: list[Any] | None, start: int, end: int
) -> None:
    """Refuse logs the filter could not have matched."""
    if not len(batch):
        return
    bn = batch.block_number
    outside = np.flatnonzero((bn < start) | (bn > end))
    if outside.size:
        i = int(outside[0])
        raise MalformedLog(
            f"log #{i} of the response is in block {int(bn[i])}, outside the requested range"
            f" [{start}, {end}]"
        )
    if not addresses.issuperset(batch.address):
        i, a = next((i, a) for i, a in enumerate(batch.address) if a not in addresses)
        raise MalformedLog(f"log #{i} of the response is from {a}, which was not requested")
    if topics:
        for pos, want in enumerate(topics):
            if want is None:
                continue
            allowed = {want} if isinstance(want, str) else set(want)
            for i, t in enumerate(batch.topics):
                if len(t) <= pos or t[pos] not in allowed:
                    raise MalformedLog(f"log #{i} of the response does not match topic {pos} of the filter")


def _sorted_checked(batch: LogBatch) -> LogBatch:
    """Sorted by (block, log index); refuses duplicates and two hashes for one block."""
    if not len(batch):
        return batch
    order = np.lexsort((batch.log_index, batch.block_number))
    if not np.array_equal(order, np.arange(len(order))):
        batch = batch.take(order)
    bn, li = batch.block_number, batch.log_index
    dup = np.flatnonzero((bn[1:] == bn[:-1]) & (li[1:] == li[:-1]))
    if dup.size:
        i = int(dup[0])
        raise MalformedLog(f"the provider returned log {int(li[i])} of block {int(bn[i])} twice")
    hashes: dict[int, str] = {}
    for b, h in zip(bn.tolist(), batch.block_hash, strict=True):
        if hashes.setdefault(b, h) != h:
            raise MalformedLog(f"logs of block {b} carry two block hashes: {hashes[b]} and {h}")
    return batch


# -- the client -----------------------------------------------------------------------------------
class RpcClient:
    """JSON-RPC reader of one endpoint; see the module documentation."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 6,
        backoff_base: float = 0.2,
        backoff_max: float = 10.0,
        requests_per_second: float | None = None,
        rng_seed: int | None = None,
        use_finalized_tag: bool = True,
        initial_span: int = 2_000,
        max_span: int = 100_000,
        grow_after: int = 2,
        max_batch: int = 100,
        max_retry_after: float = 60.0,
        expected_chain_id: int | None = None,
        headers: Mapping[str, str] | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if initial_span < 1 or max_span < initial_span:
            raise ValueError(f"need 1 <= initial_span <= max_span, got {initial_span}, {max_span}")
        self.url = url
        self.masked_url = mask_url(url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.use_finalized_tag = use_finalized_tag
        self.initial_span = initial_span
        self.max_span = max_span
        self.grow_after = grow_after
        self.max_batch = max_batch
        self.expected_chain_id = expected_chain_id
        self.stats = RpcStats()
        # the adaptive getLogs span, carried from one get_logs call to the next
        self.span = initial_span
        # smallest span refused with a block-range cap (growth stays below it)
        self.range_cap: int | None = None
        # the block ranges the last get_logs fetched, in order (their union is its range)
        self.last_ranges: list[tuple[int, int]] = []
        self._http = _Http(url, timeout, headers)
        if rate_limiter is not None:
            self._limiter: RateLimiter | None = rate_limiter
        elif requests_per_second is not None:
            self._limiter = shared_rate_limiter(url, requests_per_second)
        else:
            self._limiter = None
        self._rng = random.Random(rng_seed)
        self._sleep = sleep
        self._ids = itertools.count(1)
        self._chain_id: int | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RpcClient({self.masked_url!r})"

    # -- the request loop ---------------------------------------------------------------------------
    def _error(self, cls: type[RpcError], method: str, detail: str, error: Any = None) -> RpcError:
        code = error.get("code") if isinstance(error, dict) else None
        return cls(detail, url=self.masked_url, method=method, code=code, error=error)

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        if retry_after is not None:
            delay = min(retry_after, self.max_retry_after)
        else:
            delay = self._rng.uniform(0.0, min(self.backoff_max, self.backoff_base * 2**attempt))
        self.stats.backoff_seconds += delay
        if delay > 0:
            self._sleep(delay)

    def _send(
        self,
        method: str,
        body: bytes,
        n_calls: int,
        decode: Callable[[bytes], T],
        *,
        get_logs: bool = False,
        splittable: bool = False,
        labels: Sequence[str] | None = None,
    ) -> T:
        """POST ``body`` until ``decode`` accepts the answer; see the module documentation."""
        last = "no attempt"
        protocol = False
        retry_after: float | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.stats.retries += 1
                self._backoff(attempt - 1, retry_after)
            retry_after = None
            if self._limiter is not None:
                self.stats.rate_limit_seconds += self._limiter.acquire(n_calls)
            self.stats.requests += 1
            self.stats.calls += n_calls
            self.stats.bytes_sent += len(body)
            if get_logs:
                self.stats.get_logs_calls += 1
            try:
                status, headers, data, wire = self._http.post(body)
            except TimeoutError:
                self.stats.timeouts += 1
                if splittable:
                    raise _TooLarge(f"timed out after {self.timeout}s", "results") from None
                last, protocol = f"timed out after {self.timeout}s", False
                continue
            except (OSError, http.client.HTTPException) as exc:
                last, protocol = f"connection failed: {exc!r}", False
                continue
            self.stats.bytes_received += wire

            if status == 200:
                try:
                    return decode(data)
                except _Malformed as exc:
                    last, protocol = str(exc), True
                    continue
                except _ErrorObject as exc:
                    error = exc.error
                    what = method if exc.index is None or labels is None else labels[exc.index]
                    if get_logs and (kind := is_range_too_large(error)):
                        if splittable:
                            raise _TooLarge(_error_text(error), kind, error) from None
                        raise self._error(
                            RpcError, what,
                            f"too large for the provider, and it cannot be split: {_error_text(error)}",
                            error,
                        ) from None
                    if n_calls > 1 and exc.index is None and _BATCH_CAP.search(_error_text(error)):
                        raise _BatchTooLarge(_error_text(error)) from None
                    if _is_transient(error):
                        last, protocol = f"JSON-RPC error {error.get('code')}: {_error_text(error)}", False
                        continue
                    raise self._error(RpcError, what, f"JSON-RPC error {error.get('code')}:"
                                      f" {_error_text(error)}", error) from None

            # not 200: maybe a JSON-RPC error object explains it
            error = None
            try:
                doc = orjson.loads(data) if data else None
                if isinstance(doc, dict) and isinstance(doc.get("error"), dict | str):
                    error = _ErrorObject(doc["error"]).error
            except orjson.JSONDecodeError:
                pass
            explained = f": {_error_text(error)}" if error else f": {_snippet(data)}" if data else ""
            if get_logs and splittable and (status == 413 or (error and is_range_too_large(error))):
                kind = (is_range_too_large(error) if error else None) or "results"
                raise _TooLarge(f"HTTP {status}{explained}", kind, error)
            if n_calls > 1 and (status == 413 or (error and _BATCH_CAP.search(_error_text(error)))):
                raise _BatchTooLarge(f"HTTP {status}{explained}")
            if status == 429:
                retry_after = _retry_after(headers.get("retry-after"))
                last, protocol = f"HTTP 429 (rate limited){explained}", False
                continue
            if status == 408 or status >= 500 or (error is not None and _is_transient(error)):
                last, protocol = f"HTTP {status}{explained}", False
                continue
            raise self._error(RpcError, method, f"HTTP {status}{explained}", error)
        cls = RpcProtocolError if protocol else RpcUnavailable
        raise self._error(cls, method, f"gave up after {self.max_retries + 1} attempts; last failure: {last}")

    def _payload(self, method: str, params: Sequence[Any]) -> tuple[int, bytes]:
        rid = next(self._ids)
        return rid, orjson.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)})

    # -- generic calls --------------------------------------------------------------------------------
    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One JSON-RPC call; its ``result``."""
        rid, body = self._payload(method, params)
        return self._send(method, body, 1, lambda data: _single(_load(data), rid, data))

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]], max_batch: int | None = None) -> list[Any]:
        """Many calls, ``max_batch`` per HTTP request; results in call order. A call that
        fails raises (transient failures retry its whole request). A provider refusing
        the batch size makes the batches smaller."""
        size = max(1, max_batch or self.max_batch)
        results: list[Any] = []
        i = 0
        while i < len(calls):
            chunk = calls[i : i + size]
            first = next(self._ids)
            ids = list(range(first, first + len(chunk)))
            self._ids = itertools.count(first + len(chunk))
            body = orjson.dumps([
                {"jsonrpc": "2.0", "id": rid, "method": m, "params": list(p)}
                for rid, (m, p) in zip(ids, chunk, strict=True)
            ])
            labels = [f"{m}({', '.join(map(str, p))})" for m, p in chunk]
            method = f"batch of {len(chunk)} ({chunk[0][0]}{', ...' if len(chunk) > 1 else ''})"
            try:
                results += self._send(method, body, len(chunk), lambda data, ids=ids: _decode_batch(data, ids),
                                      labels=labels)
            except _BatchTooLarge:
                if size == 1:
                    raise self._error(RpcError, method, "the provider refuses batches") from None
                size = max(1, len(chunk) // 2)
                continue
            i += len(chunk)
        return results

    # -- chain facts ----------------------------------------------------------------------------------
    def chain_id(self) -> int:
        try:
            return _quantity(self.call("eth_chainId"), "eth_chainId result")
        except _Malformed as exc:
            raise self._error(RpcProtocolError, "eth_chainId", str(exc)) from None

    def verify_chain_id(self, expected: int) -> int:
        """The endpoint's chain id; :class:`ChainIdMismatch` unless it is ``expected``."""
        actual = self.chain_id()
        if actual != expected:
            raise self._error(
                ChainIdMismatch, "eth_chainId",
                f"the endpoint serves chain {actual}, but chain {expected} is configured for it",
            )
        self._chain_id = actual
        return actual

    def _known_chain_id(self) -> int:
        if self._chain_id is None:
            if self.expected_chain_id is not None:
                self.verify_chain_id(self.expected_chain_id)
            else:
                self._chain_id = self.chain_id()
        assert self._chain_id is not None
        return self._chain_id

    def block_number(self) -> int:
        try:
            return _quantity(self.call("eth_blockNumber"), "eth_blockNumber result")
        except _Malformed as exc:
            raise self._error(RpcProtocolError, "eth_blockNumber", str(exc)) from None

    def get_block_header(self, block: int | str) -> BlockHeader | None:
        """The header of a block number or tag ("latest", "finalized", ...); None if the
        node has no such block."""
        tag = hex(block) if isinstance(block, int) else block
        result = self.call("eth_getBlockByNumber", [tag, False])
        if result is None:
            return None
        return _header(result, self.masked_url, f"eth_getBlockByNumber({tag})")

    def finalized_block(self) -> BlockHeader | None:
        """The node's "finalized" block; None when the node does not know the tag (an error
        or ``null``). Transient failures raise as usual."""
        try:
            return self.get_block_header("finalized")
        except (RpcUnavailable, RpcProtocolError):
            raise
        except RpcError:
            return None

    def safe_head(self, confirmations: int) -> int:
        """The highest block to index: the finalized block when ``use_finalized_tag`` and the
        node knows the tag, else ``head - confirmations`` (at least -1: nothing safe)."""
        if self.use_finalized_tag:
            finalized = self.finalized_block()
            if finalized is not None:
                return finalized.number
        return max(-1, self.block_number() - confirmations)

    def get_block_headers(self, numbers: Iterable[int]) -> dict[int, BlockHeader]:
        """Headers of ``numbers`` (batched eth_getBlockByNumber); :class:`BlockNotFound` if
        the node lacks any of them."""
        wanted = sorted({int(n) for n in numbers})
        if wanted and wanted[0] < 0:
            raise ValueError(f"negative block number {wanted[0]}")
        results = self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in wanted])
        out: dict[int, BlockHeader] = {}
        for n, result in zip(wanted, results, strict=True):
            method = f"eth_getBlockByNumber({n})"
            if result is None:
                raise self._error(
                    BlockNotFound, method,
                    f"the node has no block {n} (beyond its head, pruned, or a lagging backend)",
                )
            header = _header(result, self.masked_url, method)
            if header.number != n:
                raise self._error(RpcProtocolError, method, f"asked for block {n}, got block {header.number}")
            out[n] = header
        return out

    # -- logs -------------------------------------------------------------------------------------------
    def _logs_payload(
        self, addresses: list[str], start: int, end: int, topics: list[Any] | None
    ) -> tuple[int, bytes]:
        flt: dict[str, Any] = {
            "address": addresses[0] if len(addresses) == 1 else addresses,
            "fromBlock": hex(start),
            "toBlock": hex(end),
        }
        if topics:
            flt["topics"] = topics
        return self._payload("eth_getLogs", [flt])

    def get_logs_raw(self, address: str | Sequence[str], from_block: int, to_block: int) -> bytes:
        """The body of one eth_getLogs response for the whole range (transient failures
        retried, nothing parsed or checked): for benchmarks of :func:`parse_logs_response`."""
        addresses = _normalize_addresses(address)
        _, body = self._logs_payload(addresses, from_block, to_block, None)

        def keep(data: bytes) -> bytes:
            if not data.strip():
                raise _Malformed("empty response body")
            return data

        return self._send("eth_getLogs", body, 1, keep, get_logs=True)

    def iter_logs(
        self,
        address: str | Sequence[str],
        from_block: int,
        to_block: int,
        topics: Sequence[Any] | None = None,
    ) -> Iterator[tuple[int, int, LogBatch]]:
        """``(start, end, logs)`` per fetched chunk, in block order; the chunks tile
        ``[from_block, to_block]`` exactly and each one's logs are complete, checked and sorted.
        For writing a long backfill chunk by chunk instead of holding it all in memory."""
        if from_block < 0 or to_block < from_block:
            raise ValueError(f"bad block range [{from_block}, {to_block}]")
        addresses = _normalize_addresses(address)
        allowed = set(addresses)
        flt_topics = _normalize_topics(topics)
        chain_id = self._known_chain_id()
        streak = 0
        start = from_block
        while start <= to_block:
            span = self.span if self.range_cap is None else min(self.span, self.range_cap)
            end = min(to_block, start + span - 1)
            rid, body = self._logs_payload(addresses, start, end, flt_topics)
            try:
                batch = self._send(
                    f"eth_getLogs[{start}, {end}]", body, 1,
                    lambda data, rid=rid: _decode_logs(data, chain_id, rid),
                    get_logs=True, splittable=end > start,
                )
            except _TooLarge as exc:
                self.stats.splits += 1
                streak = 0
                width = end - start + 1
                new_width = width // 2
                if exc.kind == "range":
                    # a fixed cap: the number the provider states, else half; never grow past it
                    cap = _stated_limit(exc.stated_limit_text, width) or new_width
                    self.range_cap = cap if self.range_cap is None else min(self.range_cap, cap)
                    new_width = cap
                elif exc.suggestion is not None:
                    s_from, s_to = exc.suggestion
                    if s_from == start and start <= s_to < end:
                        new_width = s_to - start + 1
                    elif s_from <= s_to and s_to - s_from + 1 < width:
                        new_width = s_to - s_from + 1
                self.span = max(1, min(new_width, width - 1))
                continue
            _check_scope(batch, allowed, flt_topics, start, end)
            batch = _sorted_checked(batch)
            self.stats.get_logs_chunks += 1
            yield start, end, batch
            start = end + 1
            streak += 1
            if streak >= self.grow_after and self.span < self.max_span:
                grown = min(self.max_span, self.span * 2)
                if self.range_cap is not None:
                    grown = min(grown, self.range_cap)
                if grown > self.span:
                    self.span = grown
                    self.stats.grows += 1
                streak = 0

    def get_logs(
        self,
        address: str | Sequence[str],
        from_block: int,
        to_block: int,
        topics: Sequence[Any] | None = None,
    ) -> LogBatch:
        """Every log of ``address`` (one or several) in ``[from_block, to_block]``, sorted by
        (block_number, log_index); fetched in adaptive chunks (see the module docs). Raises
        rather than return part of the range."""
        parts: list[LogBatch] = []
        ranges: list[tuple[int, int]] = []
        self.last_ranges = []
        for start, end, batch in self.iter_logs(address, from_block, to_block, topics):
            parts.append(batch)
            ranges.append((start, end))
        # the chunks tile the range exactly: no gap, no overlap
        if ranges[0][0] != from_block or ranges[-1][1] != to_block or any(
            b[0] != a[1] + 1 for a, b in itertools.pairwise(ranges)
        ):
            raise AssertionError(f"get_logs chunks {ranges} do not tile [{from_block}, {to_block}]")
        chain_id = parts[0].chain_id
        out = LogBatch.concat(chain_id, parts) if len(parts) > 1 else parts[0]
        self.last_ranges = ranges
        self.stats.logs += len(out)
        return out


def _decode_batch(data: bytes, ids: list[int]) -> list[Any]:
    doc = _load(data)
    if isinstance(doc, dict):
        if doc.get("error") is not None:
            raise _ErrorObject(doc["error"])
        raise _Malformed(f"a batch was answered with a single object: {_snippet(data)}")
    if not isinstance(doc, list):
        raise _Malformed(f"not a JSON-RPC batch response: {_snippet(data)}")
    by_id: dict[Any, Any] = {}
    for item in doc:
        if not isinstance(item, dict) or ("result" not in item and "error" not in item):
            raise _Malformed(f"not a JSON-RPC response in the batch: {item!r:.200}")
        by_id[item.get("id")] = item
    missing = [i for i in ids if i not in by_id and str(i) not in by_id]
    if missing:
        raise _Malformed(f"the batch response lacks {len(missing)} of its {len(ids)} answers")
    out = []
    for index, rid in enumerate(ids):
        item = by_id[rid] if rid in by_id else by_id[str(rid)]
        if item.get("error") is not None:
            raise _ErrorObject(item["error"], index)
        if "result" not in item:
            raise _Malformed(f"JSON-RPC response without result in the batch: {item!r:.200}")
        out.append(item["result"])
    return out
