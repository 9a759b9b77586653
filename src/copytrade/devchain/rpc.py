"""A small JSON-RPC client for driving the dev chain (deploying, sending batches, mining).

This is the *writer* side; the indexer's reader (adaptive eth_getLogs, retries, finality)
lives in :mod:`copytrade.chain`.
"""

from __future__ import annotations

import http.client
import itertools
from typing import Any
from urllib.parse import urlsplit

import orjson


class RpcError(RuntimeError):
    def __init__(self, method: str, error: dict) -> None:
        super().__init__(f"{method}: {error.get('message', error)}")
        self.method = method
        self.error = error


class DevRpc:
    """Keep-alive HTTP/1.1 to one local node; plain ``http.client`` costs a fraction of a
    general-purpose client per request, and seeding makes tens of thousands of them."""

    def __init__(self, url: str, timeout: float = 300.0) -> None:
        self.url = url
        parts = urlsplit(url)
        self._conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        self._path = parts.path or "/"
        self._ids = itertools.count(1)

    def close(self) -> None:
        self._conn.close()

    def _post(self, body: bytes) -> Any:
        for attempt in (0, 1):
            try:
                self._conn.request("POST", self._path, body, {"content-type": "application/json"})
                response = self._conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._conn.close()  # a dropped keep-alive connection: reconnect once
                if attempt:
                    raise
        if response.status != 200:
            raise RpcError("http", {"message": f"HTTP {response.status}: {data[:200]!r}"})
        return orjson.loads(data)

    def __enter__(self) -> DevRpc:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, method: str, *params: Any) -> Any:
        body = orjson.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)})
        data = self._post(body)
        if "error" in data:
            raise RpcError(method, data["error"])
        return data["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Several calls in one HTTP request; results in call order."""
        if not calls:
            return []
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        by_id = {item["id"]: item for item in self._post(orjson.dumps(payload))}
        results = []
        for i, (method, _) in enumerate(calls):
            item = by_id[i]
            if "error" in item:
                raise RpcError(method, item["error"])
            results.append(item["result"])
        return results

    # -- conveniences ----------------------------------------------------------------------
    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def accounts(self) -> list[str]:
        return [a.lower() for a in self.call("eth_accounts")]

    def send(self, sender: str, to: str | None, data: bytes, gas: int) -> str:
        tx: dict[str, Any] = {"from": sender, "data": "0x" + data.hex(), "gas": hex(gas)}
        if to is not None:
            tx["to"] = to
        return self.call("eth_sendTransaction", tx)

    def receipt(self, tx_hash: str) -> dict:
        return self.call("eth_getTransactionReceipt", tx_hash)

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` blocks, each ``block time`` seconds after the previous one.

        The dev chain sets ``anvil_setBlockTimestampInterval`` at start; mining with
        ``anvil_mine(n, interval)`` instead would add the wall-clock time that passes
        during the call to the timestamps.
        """
        self.call("anvil_mine", hex(blocks))

    def get_logs(self, from_block: int, to_block: int, address: str | list[str] | None = None) -> list[dict]:
        flt: dict[str, Any] = {"fromBlock": hex(from_block), "toBlock": hex(to_block)}
        if address is not None:
            flt["address"] = address
        return self.call("eth_getLogs", flt)
