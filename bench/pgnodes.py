"""PostgreSQL servers of their own for the replica and failover tests and bench/cluster.py:
a primary and streaming standbys, each a data directory under a temporary folder with
its own port and socket, run as the `postgres` user with Debian's PostgreSQL 15 binaries.
Nothing touches the machine's own clusters; `stop()` and `remove()` clean up.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
RUN_AS = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*command: str | Path, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", RUN_AS, "--"] if os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, *map(str, command)], check=check, capture_output=True, text=True, timeout=120, **kwargs
    )


def workdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, RUN_AS, RUN_AS)
    return path


@dataclass
class Node:
    name: str
    base: Path
    port: int
    host: str = "127.0.0.1"
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.base / self.name

    @property
    def log(self) -> Path:
        return self.base / f"{self.name}.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{database}"

    def start(self) -> None:
        as_postgres(BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        as_postgres(BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def running(self) -> bool:
        return as_postgres(BIN / "pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def postmaster_pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def sql(self, statement: str, *params, database: str = "postgres"):
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as connection:
            cursor = connection.execute(statement, params or None)
            return cursor.fetchall() if cursor.description else None

    def _configure(self) -> None:
        lines = {
            "port": str(self.port),
            "listen_addresses": f"'{self.host}'",
            "unix_socket_directories": f"'{self.base}'",
            "fsync": "on",
            "max_connections": "60",
            "shared_buffers": "32MB",
            "wal_level": "replica",
            "hot_standby": "on",
            "wal_keep_size": "256MB",
            **self.settings,
        }
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in lines.items())


def primary_create(base: Path, *, name: str = "primary", host: str = "127.0.0.1", **settings: str) -> Node:
    node = Node(name, base, free_port(), host, settings)
    as_postgres(BIN / "initdb", "-D", node.data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
    # Replication and clients from any address: the nodes of bench/cluster.py sit in
    # network namespaces of their own.
    with (node.data / "pg_hba.conf").open("a") as hba:
        hba.write("host all all 0.0.0.0/0 trust\nhost replication all 0.0.0.0/0 trust\n")
    node._configure()
    node.start()
    return node


def standby_create(
    primary: Node, base: Path, *, name: str = "standby", host: str = "127.0.0.1", **settings: str
) -> Node:
    node = Node(name, base, free_port(), host, settings)
    as_postgres(
        BIN / "pg_basebackup",
        "-h",
        primary.host,
        "-p",
        str(primary.port),
        "-U",
        "postgres",
        "-D",
        node.data,
        "-R",
        "-X",
        "stream",
        "--checkpoint=fast",
        "-d",
        f"application_name={name}",
    )
    node._configure()
    node.start()
    return node


def wait_caught_up(primary: Node, standby: Node, timeout: float = 30) -> None:
    """Until the standby has replayed everything the primary has written."""
    target = primary.sql("SELECT pg_current_wal_lsn()")[0][0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = standby.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target)[0][0]
        if done:
            return
        time.sleep(0.05)
    raise TimeoutError(f"{standby.name} did not catch up with {primary.name}")


def remove(base: Path, *nodes: Node) -> None:
    for node in nodes:
        if node.running():
            node.stop("immediate")
    shutil.rmtree(base, ignore_errors=True)
