"""Small helpers shared by the project-local servers: ports, pid files, privilege drop."""

from __future__ import annotations

import errno
import os
import pwd
import socket
import stat
import subprocess
import time
from pathlib import Path


class ServiceError(RuntimeError):
    """A local service could not be started, stopped or reached; the message says why."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on (or holds) ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def free_port() -> int:
    """A port nobody listens on right now (for tests that must not collide with a dev's servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def service_user() -> str | None:
    """The account servers run as: ``postgres`` when we are root (initdb refuses root), else us."""
    return "postgres" if os.geteuid() == 0 else None


def run_as(cmd: list[str], user: str | None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd`` as ``user`` (via runuser) or as ourselves, capturing output for error messages."""
    full = ["runuser", "-u", user, "--", *cmd] if user else cmd
    return subprocess.run(full, capture_output=True, text=True, **kwargs)


def hand_over(path: Path, user: str | None, mode: int = 0o700) -> None:
    """Create ``path`` owned by ``user`` and make every ancestor traversable by it.

    A fresh clone often sits in a 0700 ``mktemp -d`` directory; the postgres account must be
    able to walk into it. Only the search bit (``o+x``) is added to ancestors: nobody gains
    the right to list them.
    """
    path.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(mode)
    for ancestor in path.parents:
        st = ancestor.stat()
        if not st.st_mode & stat.S_IXOTH:
            ancestor.chmod(st.st_mode | stat.S_IXOTH)
