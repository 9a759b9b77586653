"""A fault-injecting JSON-RPC proxy for tests of the chain reader.

``FaultyProxy(upstream, seed=..., p_429=..., ...)`` listens on a free port of 127.0.0.1 (a
threaded ``http.server``), forwards JSON-RPC to ``upstream`` and, at random (seeded), answers
instead: 429 (half of them with ``Retry-After: 0``), 500/502/503, an answer delayed past the
client's timeout, an empty body, invalid JSON, or JSON that is not JSON-RPC. An eth_getLogs
over more than ``slow_logs_span`` blocks is answered too late (a slow big query); one
over more than ``max_logs_span`` blocks is refused like a provider would (``range_error``:
"plain" = "query returned more than 10000 results", "alchemy" / "infura" = the same with a
suggested range, "range" = "exceed maximum block range: N", "413" = HTTP 413, "mixed" = any
of the first three). A batch longer than ``max_batch`` is refused with one error object;
``gzip`` compresses the answers. ``mutate(request, body) -> body | None`` may rewrite
upstream answers.
``counts`` says what was injected.

Faults are drawn in the order requests arrive, so a sequential client sees the same faults
for the same seed.
"""

from __future__ import annotations

import gzip
import http.client
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

import orjson

Mutate = Callable[[Any, bytes], bytes | None]
RANGE_ERRORS = ("plain", "alchemy", "infura", "range", "413", "mixed")


class FaultyProxy:
    def __init__(
        self,
        upstream: str,
        *,
        seed: int = 0,
        p_429: float = 0.0,
        p_5xx: float = 0.0,
        p_delay: float = 0.0,
        delay: float = 1.0,
        p_empty: float = 0.0,
        p_invalid_json: float = 0.0,
        p_not_jsonrpc: float = 0.0,
        max_logs_span: int | None = None,
        range_error: str = "plain",
        slow_logs_span: int | None = None,
        max_batch: int | None = None,
        gzip: bool = False,
        mutate: Mutate | None = None,
    ) -> None:
        if range_error not in RANGE_ERRORS:
            raise ValueError(f"range_error must be one of {RANGE_ERRORS}")
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.upstream_path = parts.path or "/"
        self.faults = [
            ("429", p_429),
            ("5xx", p_5xx),
            ("delay", p_delay),
            ("empty", p_empty),
            ("invalid_json", p_invalid_json),
            ("not_jsonrpc", p_not_jsonrpc),
        ]
        if sum(p for _, p in self.faults) > 1.0:
            raise ValueError("fault probabilities add up to more than 1")
        self.delay = delay
        self.max_logs_span = max_logs_span
        self.range_error = range_error
        self.slow_logs_span = slow_logs_span
        self.max_batch = max_batch
        self.gzip = gzip
        self.mutate = mutate
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "the proxy is not running"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True, name="faulty-proxy")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def injected(self) -> int:
        """How many answers were faults (not forwarded ones)."""
        return sum(n for k, n in self.counts.items() if k not in ("requests", "forwarded"))

    # -- decisions ----------------------------------------------------------------------------
    def _draw(self) -> tuple[str | None, float]:
        with self._lock:
            u = self._rng.random()
            coin = self._rng.random()
        acc = 0.0
        for name, p in self.faults:
            acc += p
            if u < acc:
                return name, coin
        return None, coin

    @staticmethod
    def _logs_range(request: Any) -> tuple[int, int] | None:
        if not isinstance(request, dict) or request.get("method") != "eth_getLogs":
            return None
        try:
            flt = request["params"][0]
            return int(flt["fromBlock"], 16), int(flt["toBlock"], 16)
        except (KeyError, IndexError, TypeError, ValueError):
            return None

    def _range_refusal(self, request: Any, coin: float) -> tuple[int, bytes] | None:
        span = self._logs_range(request)
        if self.max_logs_span is None or span is None:
            return None
        start, end = span
        if end - start + 1 <= self.max_logs_span:
            return None
        self._count("too_large")
        style = self.range_error
        if style == "mixed":
            style = ("plain", "alchemy", "infura")[int(coin * 3)]
        self._count(f"range_{style}")
        if style == "413":
            return 413, b"<html><body>413 Request Entity Too Large</body></html>"
        suggestion = f"[{hex(start)}, {hex(start + self.max_logs_span - 1)}]"
        message = {
            "plain": "query returned more than 10000 results",
            "alchemy": (
                "Log response size exceeded. You can make eth_getLogs requests with up to a 2K"
                " block range and no limit on the response size, or you can request any block"
                " range with a cap of 10K logs in the response. Based on your parameters, this"
                f" block range should work: {suggestion}"
            ),
            "infura": f"query returned more than 10000 results. Try with this block range {suggestion}.",
            "range": f"exceed maximum block range: {self.max_logs_span}",
        }[style]
        code = -32005 if style != "alchemy" else -32602
        error = {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": code, "message": message}}
        return 200, orjson.dumps(error)

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            conn.request("POST", self.upstream_path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def answer(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """(status, extra headers, body) for one request."""
        self._count("requests")
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            request = None
        fault, coin = self._draw()
        if fault is not None and fault != "delay":
            self._count(fault)
        if fault == "429":
            return 429, ({"Retry-After": "0"} if coin < 0.5 else {}), b"Too Many Requests"
        if fault == "5xx":
            status = (500, 502, 503)[int(coin * 3)]
            return status, {}, b'{"error": "upstream trouble"}' if status == 500 else b"Bad Gateway"
        span = self._logs_range(request)
        slow = self.slow_logs_span is not None and span is not None and span[1] - span[0] + 1 > self.slow_logs_span
        if fault == "delay" or slow:
            self._count("slow" if fault is None else "delay")
            self._stopping.wait(self.delay)
        if fault == "empty":
            return 200, {}, b""
        if fault == "invalid_json":
            return 200, {}, b'{"jsonrpc": "2.0", "id": 1, "result": [{"address": "0x12'
        if fault == "not_jsonrpc":
            return 200, {}, b'{"status": "ok", "data": []}'
        if self.max_batch is not None and isinstance(request, list) and len(request) > self.max_batch:
            self._count("batch_too_large")
            return 200, {}, orjson.dumps({"jsonrpc": "2.0", "id": None, "error": {
                "code": -32600, "message": f"batch size too large: {len(request)} > {self.max_batch}"}})
        refusal = self._range_refusal(request, coin)
        if refusal is not None:
            return refusal[0], {}, refusal[1]
        status, data = self._forward(body)
        self._count("forwarded")
        if self.mutate is not None and status == 200:
            changed = self.mutate(request, data)
            if changed is not None:
                self._count("mutated")
                data = changed
        if self.gzip:
            self._count("gzipped")
            return status, {"Content-Encoding": "gzip"}, gzip.compress(data)
        return status, {}, data


class _Handler(BaseHTTPRequestHandler):
    owner: FaultyProxy
    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections end on their own

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK stall
        # every keep-alive answer by ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            status, headers, data = self.owner.answer(body)
        except (OSError, http.client.HTTPException) as exc:  # upstream gone: 502 like a gateway
            status, headers, data = 502, {}, f"proxy error: {exc!r}".encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout) and closed the connection
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass
