"""A project-local Redis 7 under ``<home>/redis``: loopback only, password-protected, no persistence.

The password goes into a 0600 config file rather than onto the command line, where ``ps``
would show it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import redis

from copytrade.config import LocalPaths, LocalSecrets
from copytrade.services.process import ServiceError, pid_alive, port_in_use, read_pid, wait_until


@dataclass(frozen=True)
class RedisStatus:
    running: bool
    pid: int | None
    port: int | None


class LocalRedis:
    def __init__(self, paths: LocalPaths, port: int) -> None:
        self.paths = paths
        self.port = port
        self.secrets = LocalSecrets(paths.secrets_file)

    @property
    def pidfile(self) -> Path:
        return self.paths.redis_dir / "redis.pid"

    @property
    def portfile(self) -> Path:
        return self.paths.redis_dir / "redis.port"

    def _binary(self) -> str:
        found = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
        )
        if not found:
            raise ServiceError(
                "redis-server not found; `make` installs it (apt-get install redis-server) "
                "or set REDIS_URL to use an existing server"
            )
        return found

    def _running(self) -> tuple[int, int] | None:
        pid = read_pid(self.pidfile)
        if pid is None or not pid_alive(pid):
            return None
        return pid, read_pid(self.portfile) or self.port

    def status(self) -> RedisStatus:
        running = self._running()
        return RedisStatus(
            running=running is not None,
            pid=running[0] if running else None,
            port=running[1] if running else None,
        )

    def client(self) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=self.port, password=self.secrets["redis_password"],
            socket_timeout=5,
        )

    def up(self) -> str:
        running = self._running()
        if running is not None:
            pid, port = running
            if port != self.port:
                raise ServiceError(
                    f"the project-local Redis already runs on port {port} (pid {pid}), not on"
                    f" COPYTRADE_REDIS_PORT={self.port}; run `copytrade services down` first"
                )
            return f"Redis already running (pid {pid}, port {port})"
        if port_in_use(self.port):
            raise ServiceError(
                f"port {self.port} on 127.0.0.1 is already in use by another process, so the"
                f" project-local Redis cannot listen there; free it or set COPYTRADE_REDIS_PORT"
                f" to another port"
            )
        binary = self._binary()
        self.paths.redis_dir.mkdir(parents=True, exist_ok=True)
        conf = self.paths.redis_dir / "redis.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(
                "\n".join(
                    [
                        "bind 127.0.0.1",
                        f"port {self.port}",
                        f'requirepass "{self.secrets["redis_password"]}"',
                        'save ""',
                        "appendonly no",
                        "daemonize yes",
                        f'pidfile "{self.pidfile}"',
                        f'logfile "{self.paths.redis_dir / "redis.log"}"',
                        f'dir "{self.paths.redis_dir}"',
                        "",
                    ]
                )
            )
        self.pidfile.unlink(missing_ok=True)
        result = subprocess.run([binary, str(conf)], capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"redis-server failed to start: {result.stderr.strip() or result.stdout.strip()}")
        self.portfile.write_text(str(self.port))
        client = self.client()

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        if not wait_until(answers, 15):
            raise ServiceError(f"Redis started but does not answer on port {self.port}; see {self.paths.redis_dir / 'redis.log'}")
        return f"Redis started (pid {read_pid(self.pidfile)}, port {self.port})"

    def down(self) -> str:
        running = self._running()
        if running is None:
            return "Redis not running"
        pid = running[0]
        os.kill(pid, signal.SIGTERM)
        if not wait_until(lambda: not pid_alive(pid), 15):
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 5)
        self.pidfile.unlink(missing_ok=True)
        return f"Redis stopped (pid {pid})"
