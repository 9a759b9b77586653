"""A project-local PostgreSQL 15 cluster under ``<home>/postgres``.

initdb refuses to run as root, so when we are root the cluster is created and run by the
``postgres`` account through ``runuser``. The server listens on 127.0.0.1 only, with no
Unix socket (a clone's path can be longer than a socket path may be), and password
authentication; passwords come from :class:`copytrade.config.LocalSecrets`.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from copytrade.config import APP_DB, APP_ROLE, DAGSTER_DB, LocalPaths, LocalSecrets
from copytrade.services.process import (
    ServiceError,
    hand_over,
    pid_alive,
    port_in_use,
    run_as,
    service_user,
    wait_until,
)

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "200",
    "shared_buffers": "256MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "2GB",
    "synchronous_commit": "off",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
}
# Throwaway clusters (tests, benchmarks) trade crash safety for speed.
NON_DURABLE_SETTINGS = {"fsync": "off", "full_page_writes": "off"}


@dataclass(frozen=True)
class PostgresStatus:
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path
    initialized: bool


class LocalPostgres:
    def __init__(
        self, paths: LocalPaths, port: int, bin_dir: Path, *, durable: bool = True
    ) -> None:
        self.paths = paths
        self.port = port
        self.bin_dir = bin_dir
        self.durable = durable
        self.user = service_user()
        self.secrets = LocalSecrets(paths.secrets_file)

    # -- state -----------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.paths.pg_data / "PG_VERSION").exists()

    def _postmaster(self) -> tuple[int, int] | None:
        """(pid, port) from postmaster.pid when that server process is alive."""
        try:
            lines = (self.paths.pg_data / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (FileNotFoundError, ValueError, IndexError, PermissionError):
            return None
        return (pid, port) if pid_alive(pid) else None

    def status(self) -> PostgresStatus:
        pm = self._postmaster()
        return PostgresStatus(
            running=pm is not None,
            pid=pm[0] if pm else None,
            port=pm[1] if pm else None,
            data_dir=self.paths.pg_data,
            initialized=self.initialized,
        )

    # -- lifecycle -------------------------------------------------------------------------
    def _bin(self, name: str) -> str:
        path = self.bin_dir / name
        if not path.exists():
            raise ServiceError(
                f"PostgreSQL binary {path} not found; install postgresql-15 or set COPYTRADE_PG_BIN"
            )
        return str(path)

    def _initdb(self) -> None:
        hand_over(self.paths.pg_root, self.user)
        pwfile = self.paths.pg_root / "initdb.pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.secrets["pg_superuser_password"] + "\n")
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            result = run_as(
                [
                    self._bin("initdb"),
                    "-D", str(self.paths.pg_data),
                    "-U", "postgres",
                    "--pwfile", str(pwfile),
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                ],
                self.user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ServiceError(f"initdb failed:\n{result.stderr.strip()}")
        conf = self.paths.pg_data / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write("\n# copytrade project-local settings\n")
            for key, value in SERVER_SETTINGS.items():
                fh.write(f"{key} = {value}\n")

    def up(self) -> str:
        """Start the cluster (creating it on first use); harmless when it already runs."""
        pm = self._postmaster()
        if pm is not None:
            pid, running_port = pm
            if running_port != self.port:
                raise ServiceError(
                    f"the project-local PostgreSQL already runs on port {running_port} (pid {pid}),"
                    f" not on COPYTRADE_PG_PORT={self.port}; run `copytrade services down` first"
                )
            self.ensure_databases()
            return f"PostgreSQL already running (pid {pid}, port {self.port})"
        if port_in_use(self.port):
            raise ServiceError(
                f"port {self.port} on 127.0.0.1 is already in use by another process, so the"
                f" project-local PostgreSQL cannot listen there; free it or set"
                f" COPYTRADE_PG_PORT to another port"
            )
        created = not self.initialized
        if created:
            self._initdb()
        # postmaster.pid may be stale after a crash: pg_ctl handles that itself.
        options = [f"-p {self.port}"]
        if not self.durable:
            options += [f"-c {k}={v}" for k, v in NON_DURABLE_SETTINGS.items()]
        result = run_as(
            [
                self._bin("pg_ctl"), "start", "-D", str(self.paths.pg_data),
                "-l", str(self.paths.pg_log), "-w", "-t", "60", "-o", " ".join(options),
            ],
            self.user,
        )
        if result.returncode != 0:
            log_tail = ""
            try:
                log_tail = "\n".join(self.paths.pg_log.read_text().splitlines()[-15:])
            except OSError:
                pass
            raise ServiceError(
                f"PostgreSQL failed to start on port {self.port}:\n{result.stderr.strip()}\n{log_tail}"
            )
        self.ensure_databases()
        pm = self._postmaster()
        verb = "created and started" if created else "started"
        return f"PostgreSQL {verb} (pid {pm[0] if pm else '?'}, port {self.port})"

    def down(self) -> str:
        pm = self._postmaster()
        if pm is None:
            return "PostgreSQL not running"
        result = run_as(
            [self._bin("pg_ctl"), "stop", "-D", str(self.paths.pg_data), "-m", "fast", "-w", "-t", "60"],
            self.user,
        )
        if result.returncode != 0 and pid_alive(pm[0]):
            raise ServiceError(f"PostgreSQL did not stop:\n{result.stderr.strip()}")
        wait_until(lambda: not pid_alive(pm[0]), 30)
        return f"PostgreSQL stopped (pid {pm[0]})"

    # -- roles and databases ---------------------------------------------------------------
    def superuser_conninfo(self, dbname: str = "postgres") -> str:
        return psycopg.conninfo.make_conninfo(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            password=self.secrets["pg_superuser_password"],
            dbname=dbname,
        )

    def ensure_databases(self) -> None:
        """The application role and its two databases (app data, Dagster's own storage)."""
        with psycopg.connect(self.superuser_conninfo(), autocommit=True, connect_timeout=10) as conn:
            role = sql.Identifier(APP_ROLE)
            password = sql.Literal(self.secrets["pg_password"])
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
            verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
            conn.execute(sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(verb, role, password))
            for db in (APP_DB, DAGSTER_DB):
                found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone()
                if not found:
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(db), role)
                    )
