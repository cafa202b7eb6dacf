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


# --- pg_auto_failover: a monitor and two nodes, the primary's standby synchronous -------

AUTOCTL = "pg_autoctl"
# Failover in seconds rather than the defaults' minute: the monitor checks every second
# and gives up on a silent primary after 3 s; it then waits primary_demote_timeout for
# the old primary to stop itself, which a node cut off from the monitor does after
# network_partition_timeout, so the first must exceed the second (no two primaries).
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": "1000",
    "pgautofailover.health_check_timeout": "1000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "3000",
    "pgautofailover.primary_demote_timeout": "8000",
}
NODE_NETWORK_PARTITION_TIMEOUT = "5"


@dataclass
class AutoNode:
    """One pg_autoctl-managed server: `process` is its pg_autoctl, in a session of its own
    so that a SIGKILL to the group takes the whole machine's PostgreSQL with it."""

    name: str
    base: Path
    port: int
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = None

    @property
    def data(self) -> Path:
        return self.base / self.name

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{database}"

    def sql(self, statement: str, *params, database: str = "postgres"):
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=3) as connection:
            cursor = connection.execute(statement, params or None)
            return cursor.fetchall() if cursor.description else None

    def kill(self) -> None:
        """SIGKILL pg_autoctl and every PostgreSQL process of this node: the machine dies."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)
        pid_file = self.data / "postmaster.pid"
        try:
            os.kill(int(pid_file.read_text().split()[0]), 9)
        except (OSError, ValueError, IndexError):
            pass


@dataclass
class Formation:
    base: Path
    monitor: AutoNode
    nodes: list[AutoNode]
    netns: dict[str, str] = field(default_factory=dict)  # node name -> network namespace

    def env(self) -> dict[str, str]:
        return autoctl_env(self.base)

    def app_url(self, database: str) -> str:
        """The app's DATABASE_URL: every node, libpq keeps the one that takes writes."""
        hosts = ",".join(f"{node.host}:{node.port}" for node in self.nodes)
        return f"postgres://postgres@{hosts}/{database}?target_session_attrs=read-write"

    def state(self) -> list[tuple[str, str, str]]:
        """(node, reported state, assigned state) as the monitor sees them."""
        rows = self.monitor.sql(
            "SELECT nodename, reportedstate::text, goalstate::text FROM pgautofailover.node ORDER BY nodeid",
            database="pg_auto_failover",
        )
        return [tuple(row) for row in rows or []]

    def primary(self) -> AutoNode | None:
        for node in self.nodes:
            try:
                if node.sql("SELECT NOT pg_is_in_recovery()")[0][0]:
                    return node
            except psycopg.Error:
                continue
        return None

    def wait_settled(self, timeout: float = 120) -> None:
        """Until one node is primary and the other a streaming secondary."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                states = sorted((reported, goal) for _name, reported, goal in self.state())
            except psycopg.Error:
                states = []
            if states == [("primary", "primary"), ("secondary", "secondary")]:
                return
            time.sleep(0.5)
        raise TimeoutError(f"formation did not settle: {self.state()}")

    def stop(self) -> None:
        for node in [*self.nodes, self.monitor]:
            node.kill()


def autoctl_env(base: Path) -> dict[str, str]:
    return {
        **os.environ,
        # pg_autoctl keeps its configuration and state under XDG folders: the test's own.
        "XDG_CONFIG_HOME": str(base / "config"),
        "XDG_DATA_HOME": str(base / "share"),
        "XDG_RUNTIME_DIR": str(base / "run"),
        "PG_CONFIG": str(BIN / "pg_config"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "HOME": str(base),
    }


def _autoctl(base: Path, *args: str, netns: str | None = None, background: bool = False, log: Path | None = None):
    command = [AUTOCTL, *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", RUN_AS, "--", *command]
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    if background:
        assert log is not None
        return subprocess.Popen(
            command, env=autoctl_env(base), stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
    return subprocess.run(command, env=autoctl_env(base), check=True, capture_output=True, text=True, timeout=180)


def formation_create(
    base: Path,
    *,
    hosts: tuple[str, str, str] = ("127.0.0.1",) * 3,
    netns: tuple[str | None, ...] = (None,) * 3,
    trusted: str | None = None,
) -> Formation:
    """A monitor and two nodes (hosts and optional network namespaces in that order);
    returns once one node is primary and the other its synchronous secondary.
    `trusted`: a network (CIDR) whose clients every server lets in without a password."""
    for folder in ("config", "share", "run"):
        (base / folder).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(base / folder, RUN_AS, RUN_AS)
    monitor = AutoNode("monitor", base, free_port(), hosts[0])
    common = ["--auth", "trust", "--no-ssl", "--pgctl", str(BIN / "pg_ctl")]
    _autoctl(
        base, "create", "monitor", "--pgdata", str(monitor.data), "--pgport", str(monitor.port),
        "--hostname", monitor.host, *common, netns=netns[0],
    )  # fmt: skip
    with (monitor.data / "postgresql.auto.conf").open("a") as conf:
        conf.writelines(f"{key} = {value}\n" for key, value in MONITOR_SETTINGS.items())
        conf.write("listen_addresses = '*'\n")
    if trusted:
        _trust(monitor.data, trusted)
    monitor.process = _autoctl(
        base, "run", "--pgdata", str(monitor.data), netns=netns[0], background=True, log=base / "monitor.log"
    )
    monitor_uri = f"postgres://autoctl_node@{monitor.host}:{monitor.port}/pg_auto_failover?sslmode=disable"
    _wait_connectable(monitor, "pg_auto_failover")
    formation = Formation(base, monitor, [])
    for index, (host, namespace) in enumerate(zip(hosts[1:], netns[1:], strict=True), start=1):
        node = AutoNode(f"node{index}", base, free_port(), host)
        node.process = _autoctl(
            base, "create", "postgres", "--pgdata", str(node.data), "--pgport", str(node.port),
            "--hostname", node.host, "--name", node.name, "--monitor", monitor_uri, "--run", *common,
            netns=namespace, background=True, log=base / f"{node.name}.log",
        )  # fmt: skip
        formation.nodes.append(node)
        if trusted:
            _wait_until(lambda n=node: (n.data / "postmaster.pid").exists(), timeout=120, what=f"{node.name} to start")
            _trust(node.data, trusted)
            as_postgres(BIN / "pg_ctl", "-D", node.data, "reload", check=False)
        # One at a time: the first registers as the primary, the second clones it.
        _wait_until(lambda n=node.name: any(name == n and goal in ("single", "secondary", "primary")
                                             and reported == goal for name, reported, goal in _safe_state(formation)),
                    timeout=120, what=f"{node.name} to join")  # fmt: skip
    for node in formation.nodes:
        _autoctl(
            base, "config", "set", "--pgdata", str(node.data),
            "timeout.network_partition_timeout", NODE_NETWORK_PARTITION_TIMEOUT,
        )  # fmt: skip
    formation.wait_settled()
    return formation


def _trust(data: Path, network: str) -> None:
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {network} trust\nhost replication all {network} trust\n")


def _safe_state(formation: Formation) -> list[tuple[str, str, str]]:
    try:
        return formation.state()
    except psycopg.Error:
        return []


def _wait_connectable(node: AutoNode, database: str, timeout: float = 60) -> None:
    def connectable() -> bool:
        try:
            node.sql("SELECT 1", database=database)
        except psycopg.Error:
            return False
        return True

    _wait_until(connectable, timeout=timeout, what=f"{node.name} to accept connections")


def _wait_until(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}")
