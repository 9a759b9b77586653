"""The anvil process of the dev chain.

anvil runs on 127.0.0.1 with mining on demand only (``--no-mining``), so every block's
content and timestamp is chosen by the scenario: block ``n`` has timestamp
``genesis + BLOCK_TIME * n``. Two settings keep long chains fast (measured here):
``--hardfork cancun`` (Prague's EIP-2935 history contract makes each block slower as the
chain grows) and ``--prune-history`` (keeping every historical state makes mining
quadratic: 20k blocks took 54 s then 147 s). Without history anvil cannot ``anvil_reorg``,
so a chain started with ``keep_history=True`` (small test chains) supports that, while
``evm_snapshot`` / ``evm_revert`` work either way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from copytrade.config import find_project_root
from copytrade.services.process import ServiceError, pid_alive, port_in_use, wait_until

CHAIN_ID = 31337
BLOCK_TIME = 12
DEFAULT_GENESIS = 1_735_689_600  # 2025-01-01T00:00:00Z
MNEMONIC = "test test test test test test test test test test test junk"


@dataclass(frozen=True)
class AnvilInfo:
    pid: int
    port: int
    genesis_time: int
    keep_history: bool

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def anvil_binary() -> Path:
    """The native anvil of the npm package (not the node wrapper in ``.bin``, which would
    leave its child running when it is signalled)."""
    modules = find_project_root(Path(__file__).parent) / "node_modules" / "@foundry-rs"
    found = sorted(modules.glob("anvil-*/bin/anvil"))
    if not found:
        raise ServiceError(f"no anvil binary under {modules}: run `npm ci` (any make target bootstraps it)")
    return found[0]


class Anvil:
    """Start, find and stop the dev chain's anvil; its state lives in ``<dir>/anvil.json``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.info_file = directory / "anvil.json"
        self.log_file = directory / "anvil.log"

    def info(self) -> AnvilInfo | None:
        try:
            info = AnvilInfo(**json.loads(self.info_file.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None
        return info if pid_alive(info.pid) else None

    def start(
        self, port: int, genesis_time: int = DEFAULT_GENESIS, keep_history: bool = False
    ) -> AnvilInfo:
        running = self.info()
        if running is not None:
            return running
        if port_in_use(port):
            raise ServiceError(
                f"port {port} on 127.0.0.1 is already in use, so anvil cannot listen there;"
                f" free it or pass another --port / set COPYTRADE_ANVIL_PORT"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--chain-id", str(CHAIN_ID),
            "--timestamp", str(genesis_time),
            "--hardfork", "cancun",
            "--no-mining",
            "--gas-limit", str(30_000_000_000),
            "--no-request-size-limit",
            "--accounts", "3",
            "--balance", "1000000",
            "--mnemonic", MNEMONIC,
            "--base-fee", "0",
            "--silent",
        ]
        if not keep_history:
            cmd.append("--prune-history")
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        info = AnvilInfo(pid=proc.pid, port=port, genesis_time=genesis_time, keep_history=keep_history)

        def answers() -> bool:
            if proc.poll() is not None:
                return True
            try:
                httpx.post(info.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1)
                return True
            except httpx.HTTPError:
                return False

        if not wait_until(answers, 30) or proc.poll() is not None:
            raise ServiceError(f"anvil did not start on port {port}; see {self.log_file}")
        # every block exactly BLOCK_TIME after its parent, whatever the wall clock does
        httpx.post(info.url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_setBlockTimestampInterval", "params": [BLOCK_TIME]}, timeout=10).raise_for_status()
        self.info_file.write_text(json.dumps(asdict(info)))
        return info

    def stop(self) -> int | None:
        info = self.info()
        if info is None:
            self.info_file.unlink(missing_ok=True)
            return None
        # anvil runs in its own session: signal the whole group
        os.killpg(info.pid, signal.SIGTERM)
        if not wait_until(lambda: not pid_alive(info.pid), 10):
            os.killpg(info.pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(info.pid), 5)
        self.info_file.unlink(missing_ok=True)
        return info.pid
