#!/usr/bin/env python
"""The scaled-out topology on this machine, with real processes, and what a user loses
when a machine dies: nothing acknowledged.

Each "machine" is a network namespace with an address of its own on one bridge
(10.17.0.0/24): two app hosts (gunicorn, WSGI), a load balancer (HAProxy with
deploy/haproxy.cfg), Redis, and pg_auto_failover's monitor and two PostgreSQL nodes
(the primary's standby synchronous: a commit is answered once the standby has it).
The app connects with every node in DATABASE_URL and target_session_attrs=read-write,
and reads history from the standby (DATABASE_REPLICA_URLS, target_session_attrs=standby).

Devices post through the load balancer as bench/soak.py's do (one reading per request,
an Idempotency-Key each, retried with the same key until answered 201), while a reader
asks for history. Midway, (a) one app host is SIGKILLed (every process of it), then
(b) the PostgreSQL primary (pg_autoctl and every PostgreSQL process of that node).
At the end every acknowledged reading must be stored exactly once on the new primary.

    python bench/cluster.py --quick   # 40 s of load: about 2 minutes in all
    python bench/cluster.py           # 120 s of load

Needs root (namespaces), haproxy, redis-server and pg_auto_failover (make cluster-deps).
Prints ONE JSON line: acknowledged, stored, lost, duplicated, errors_5xx (other than
503), answered_503 (with when, in 5-second bins, and how many came from HAProxy
itself), seconds_without_primary (writes refused), failover_s (until the standby was
out of recovery), history_from_replica (queries on telemetry's tables seen running
on the standby before the primary was killed: history it served), and what happened when.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pgnodes  # noqa: E402
from bench.soak import Tally, device_loop, percentile  # noqa: E402

PREFIX = "iot17"
BRIDGE = f"{PREFIX}br"
SUBNET = "10.17.0"
ADDRESSES = {
    "lb": f"{SUBNET}.10",
    "app1": f"{SUBNET}.11",
    "app2": f"{SUBNET}.12",
    "mon": f"{SUBNET}.20",
    "pg1": f"{SUBNET}.21",
    "pg2": f"{SUBNET}.22",
    "redis": f"{SUBNET}.30",
}
HOST_ADDRESS = f"{SUBNET}.1"
LB_PORT = 8080
WEB_PORT = 8001
DATABASE = "iotsite"
WORKERS_PER_HOST = 2


def log(message: str) -> None:
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)


def netns_name(host: str) -> str:
    return f"{PREFIX}-{host}"


# --- the network ------------------------------------------------------------------------


def network_up() -> None:
    network_down()
    run("ip", "link", "add", BRIDGE, "type", "bridge")
    run("ip", "addr", "add", f"{HOST_ADDRESS}/24", "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")
    for index, (host, address) in enumerate(ADDRESSES.items()):
        namespace, outside, inside = netns_name(host), f"{PREFIX}v{index}", f"{PREFIX}p{index}"
        run("ip", "netns", "add", namespace)
        run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        run("ip", "link", "set", inside, "netns", namespace)
        run("ip", "link", "set", outside, "master", BRIDGE)
        run("ip", "link", "set", outside, "up")
        run("ip", "netns", "exec", namespace, "ip", "addr", "add", f"{address}/24", "dev", inside)
        run("ip", "netns", "exec", namespace, "ip", "link", "set", inside, "up")
        run("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")


def network_down() -> None:
    for host in ADDRESSES:
        namespace = netns_name(host)
        # Whatever still runs in a namespace dies with the machine it stands for.
        pids = run("ip", "netns", "pids", namespace, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        run("ip", "netns", "del", namespace, check=False)
    # A namespace whose killed processes are not reaped yet outlives `netns del` for a
    # moment, and its veth pair with it: delete the outer ends (their peers go along).
    for index in range(len(ADDRESSES)):
        run("ip", "link", "del", f"{PREFIX}v{index}", check=False)
    run("ip", "link", "del", BRIDGE, check=False)


def in_netns(host: str, *command: str) -> list[str]:
    return ["ip", "netns", "exec", netns_name(host), *command]


# --- the machines -------------------------------------------------------------------------


def app_env(formation: pgnodes.Formation) -> dict[str, str]:
    nodes = ",".join(f"{node.host}:{node.port}" for node in formation.nodes)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "iotsite.settings",
        "DATABASE_URL": f"postgres://postgres@{nodes}/{DATABASE}?target_session_attrs=read-write",
        "DATABASE_REPLICA_URLS": f"postgres://postgres@{nodes}/{DATABASE}?target_session_attrs=standby",
        "DATABASE_REPLICA_MAX_LAG": "5",
        "DB_CONNECT_TIMEOUT": "2",
        "DB_CONN_MAX_AGE": "60",
        "REDIS_URL": f"redis://{ADDRESSES['redis']}:6379/0",
        "DEBUG": "false",
        "SECRET_KEY": "cluster-" + "k" * 42,
        "ALLOWED_HOSTS": "*",
        "LOG_LEVEL": "WARNING",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "NUM_PROXIES": "1",
        "FORWARDED_ALLOW_IPS": "*",
        "THROTTLE_DEVICE": "100000/min",
        "THROTTLE_USER": "100000/min",
    }


def start_app_host(host: str, env: dict[str, str], logs: Path) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = in_netns(
        host, gunicorn, "iotsite.wsgi:application", "-c", "deploy/gunicorn.conf.py",
        "--bind", f"{ADDRESSES[host]}:{WEB_PORT}", "--workers", str(WORKERS_PER_HOST),
    )  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=(logs / f"{host}.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def start_load_balancer(logs: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "LISTEN": f"{ADDRESSES['lb']}:{LB_PORT}",
        "APP1_WEB": f"{ADDRESSES['app1']}:{WEB_PORT}",
        "APP2_WEB": f"{ADDRESSES['app2']}:{WEB_PORT}",
        # No WebSocket workers here: the /ws/ backend checks the web workers instead.
        "APP1_WS": f"{ADDRESSES['app1']}:{WEB_PORT}",
        "APP2_WS": f"{ADDRESSES['app2']}:{WEB_PORT}",
    }
    return subprocess.Popen(
        in_netns("lb", "haproxy", "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")),
        env=env, start_new_session=True, stdout=(logs / "haproxy.log").open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def start_redis(logs: Path) -> subprocess.Popen:
    command = in_netns(
        "redis", "redis-server", "--bind", ADDRESSES["redis"], "--port", "6379", "--save", "",
        "--appendonly", "no", "--protected-mode", "no",
    )  # fmt: skip
    return subprocess.Popen(
        command, start_new_session=True, stdout=(logs / "redis.log").open("ab"), stderr=subprocess.STDOUT
    )


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer")


def prepare_database(formation: pgnodes.Formation, env: dict[str, str], devices: int) -> tuple[list, str, list[int]]:
    primary = formation.primary()
    assert primary is not None
    primary.sql(f"CREATE DATABASE {DATABASE}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import RefreshToken

    from devices.services import device_create

    owner = get_user_model().objects.create_user(username="cluster", password="cluster-password-1")
    made = [device_create(owner=owner, name=f"cluster-{i}", type="generic") for i in range(devices)]
    from django.db import connections

    connections.close_all()
    return (
        [(device.pk, token) for device, token in made],
        str(RefreshToken.for_user(owner).access_token),
        [device.pk for device, _token in made],
    )


# --- the load -----------------------------------------------------------------------------


class Counts(Tally):
    def __init__(self) -> None:
        super().__init__()
        self.answered_503 = 0
        self.started = time.monotonic()
        self.times_503: list[float] = []  # seconds into the run
        self.balancer_503 = 0  # HAProxy's own (no app host could take it), not the app's
        self.history_ok = self.history_503 = self.history_failed = 0

    def count_refusal(self, device_id: int, response: httpx.Response) -> None:
        if response.status_code == 503:
            self.answered_503 += 1
            self.times_503.append(time.monotonic() - self.started)
            if "retry-after" not in response.headers:
                self.balancer_503 += 1
            return
        if response.status_code >= 500:
            log(f"device {device_id}: {response.status_code} {response.text[:200]}")
        super().count_refusal(device_id, response)


async def history_loop(client, access: str, device_ids: list[int], counts: Counts, stop_at: float) -> None:
    headers = {"Authorization": f"Bearer {access}"}
    index = 0
    while time.monotonic() < stop_at:
        index += 1
        try:
            response = await client.get(
                f"/api/devices/{device_ids[index % len(device_ids)]}/readings/", headers=headers
            )
        except httpx.TransportError:
            counts.history_failed += 1
        else:
            if response.status_code == 200:
                counts.history_ok += 1
            elif response.status_code == 503:
                counts.history_503 += 1
            else:
                counts.history_failed += 1
                if response.status_code >= 500 and response.status_code != 503:
                    counts.errors_5xx += 1
        await asyncio.sleep(0.05)


async def load(base, devices, access, seconds, interval, counts: Counts) -> None:
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=len(devices) + 4, max_keepalive_connections=len(devices) + 4)
    # The history readers are a client of their own (a person's browser, not a device).
    async with (
        httpx.AsyncClient(base_url=base, timeout=15, limits=limits) as client,
        httpx.AsyncClient(base_url=base, timeout=15) as reader,
    ):
        await asyncio.gather(
            *(
                device_loop(client, pk, token, counts, stop_at, interval, stop_at + 90, key_prefix="cluster")
                for pk, token in devices
            ),
            *(history_loop(reader, access, [pk for pk, _t in devices], counts, stop_at) for _ in range(2)),
        )


class PrimaryWatch(threading.Thread):
    """Tries a write on whichever node takes writes, every 0.2 s: the longest run of
    failures is the time without a primary."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stopping = threading.Event()
        self.longest_gap = 0.0
        self.failing_since: float | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.url, connect_timeout=1, autocommit=True) as connection:
                    connection.execute("SELECT txid_current()")
            except psycopg.Error:
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
            else:
                if self.failing_since is not None:
                    self.longest_gap = max(self.longest_gap, time.monotonic() - self.failing_since)
                    self.failing_since = None
            self.stopping.wait(0.2)


class ReplicaWatch(threading.Thread):
    """Samples the standby's pg_stat_activity every 0.1 s: each distinct query of an app
    host on telemetry's tables seen there is history the replica served."""

    def __init__(self, formation: pgnodes.Formation) -> None:
        super().__init__(daemon=True)
        self.formation = formation
        self.stopping = threading.Event()
        self.seen: set[tuple[int, str]] = set()

    def run(self) -> None:
        while not self.stopping.is_set():
            for node in self.formation.nodes:
                try:
                    rows = node.sql(
                        "SELECT pid, query_start::text FROM pg_stat_activity WHERE pg_is_in_recovery() "
                        "AND backend_type = 'client backend' AND client_addr <<= %s::inet "
                        "AND query LIKE '%%telemetry\\_%%' AND query_start IS NOT NULL",
                        f"{SUBNET}.0/24",
                        database=DATABASE,
                    )
                except psycopg.Error:
                    continue
                self.seen.update((pid, start) for pid, start in rows or [])
            self.stopping.wait(0.1)


def stored_values(url: str, device_ids: list[int]) -> dict[int, list[float]]:
    stored: dict[int, list[float]] = {device_id: [] for device_id in device_ids}
    with psycopg.connect(url, connect_timeout=3) as connection:
        rows = connection.execute(
            "SELECT s.device_id, r.value FROM telemetry_reading r JOIN telemetry_sensor s ON s.id = r.sensor_id"
        ).fetchall()
    for device_id, value in rows:
        stored[device_id].append(value)
    return stored


def _not_logs(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if not (name.endswith(".log") or name == "logs")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="40 s of load")
    parser.add_argument("--seconds", type=float, help="seconds of load (default 120, 40 with --quick)")
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds each device waits between readings")
    parser.add_argument("--keep-logs", type=Path, help="copy the servers' logs into this folder")
    args = parser.parse_args()
    seconds = args.seconds or (40 if args.quick else 120)
    if os.geteuid() != 0:
        sys.exit("bench/cluster.py needs root: it makes network namespaces")

    base = pgnodes.workdir("iotsite-cluster-")
    logs = base / "logs"
    logs.mkdir()
    events: dict[str, float | str] = {}
    counts = Counts()
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, base, ignore_errors=True)
        if args.keep_logs:
            cleanup.callback(lambda: shutil.copytree(base, args.keep_logs, dirs_exist_ok=True, ignore=_not_logs))
        cleanup.callback(network_down)
        log("network namespaces and bridge")
        network_up()
        log("pg_auto_failover: monitor and two nodes")
        formation = pgnodes.formation_create(
            base,
            hosts=(ADDRESSES["mon"], ADDRESSES["pg1"], ADDRESSES["pg2"]),
            netns=(netns_name("mon"), netns_name("pg1"), netns_name("pg2")),
            trusted=f"{SUBNET}.0/24",
        )
        cleanup.callback(formation.stop)
        redis = start_redis(logs)
        cleanup.callback(kill_group, redis)
        env = app_env(formation)
        devices, access, device_ids = prepare_database(formation, env, args.devices)
        hosts = {host: start_app_host(host, env, logs) for host in ("app1", "app2")}
        for host, process in hosts.items():
            cleanup.callback(kill_group, process)
            wait_http(f"http://{ADDRESSES[host]}:{WEB_PORT}/healthz")
        balancer = start_load_balancer(logs)
        cleanup.callback(kill_group, balancer)
        base_url = f"http://{ADDRESSES['lb']}:{LB_PORT}"
        wait_http(f"{base_url}/healthz")
        watch = PrimaryWatch(formation.app_url(DATABASE))
        watch.start()
        replica_watch = ReplicaWatch(formation)
        replica_watch.start()
        started = counts.started = time.monotonic()

        def disasters() -> None:
            time.sleep(seconds / 3)
            log("SIGKILL app host app1 (every process)")
            kill_group(hosts["app1"])
            events["app_host_killed_at_s"] = round(time.monotonic() - started, 1)
            time.sleep(seconds / 3)
            # History the standby served under ingest load, until it is promoted.
            replica_watch.stopping.set()
            events["history_from_replica"] = len(replica_watch.seen)
            old = formation.primary()
            assert old is not None
            log(f"SIGKILL the PostgreSQL primary {old.name} (pg_autoctl and PostgreSQL)")
            killed_at = time.monotonic()
            old.kill()
            events["primary_killed"] = old.name
            events["primary_killed_at_s"] = round(killed_at - started, 1)
            deadline = killed_at + 120
            while time.monotonic() < deadline:
                new = formation.primary()
                if new is not None and new.name != old.name:
                    events["failover_s"] = round(time.monotonic() - killed_at, 1)
                    events["new_primary"] = new.name
                    return
                time.sleep(0.2)

        disaster = threading.Thread(target=disasters, daemon=True)
        disaster.start()
        log(f"{len(devices)} devices posting for {seconds:.0f} s through {base_url}, history read meanwhile")
        asyncio.run(load(base_url, devices, access, seconds, args.interval, counts))
        elapsed = time.monotonic() - started
        disaster.join(timeout=150)
        watch.stopping.set()
        watch.join()
        if watch.failing_since is not None:  # still without a primary at the end
            watch.longest_gap = max(watch.longest_gap, time.monotonic() - watch.failing_since)
        stored = stored_values(formation.app_url(DATABASE), device_ids)
        events["states_at_end"] = " ".join(f"{n}:{r}" for n, r, _g in formation.state())

    lost, duplicated = counts.lost_and_duplicated(stored)
    acknowledged = sum(len(values) for values in counts.acknowledged.values())
    print(
        json.dumps(
            {
                "devices": len(devices),
                "app_hosts": 2,
                "seconds": round(elapsed, 1),
                "acknowledged": acknowledged,
                "stored": sum(len(values) for values in stored.values()),
                "lost": lost,
                "duplicated": duplicated,
                "errors_5xx": counts.errors_5xx,
                "answered_503": counts.answered_503,
                # When the 503s came, seconds into the run in 5-second bins: all should
                # fall in the bins after primary_killed_at_s.
                "answered_503_by_5s": {
                    str(int(t // 5 * 5)): sum(1 for u in counts.times_503 if int(u // 5) == int(t // 5))
                    for t in sorted(set(counts.times_503))
                },
                "balancer_503": counts.balancer_503,
                "connection_errors": counts.connection_errors,
                "retries": counts.retries,
                "requests": counts.requests,
                "seconds_without_primary": round(watch.longest_gap, 1),
                "history_ok": counts.history_ok,
                "history_503": counts.history_503,
                "history_failed": counts.history_failed,
                "acknowledged_per_s": round(acknowledged / elapsed, 1),
                "latency_ms_p50": round(sorted(counts.latencies_ms)[len(counts.latencies_ms) // 2], 1)
                if counts.latencies_ms
                else 0,
                "latency_ms_p99": round(percentile(counts.latencies_ms, 0.99), 1),
                **events,
            }
        )
    )


if __name__ == "__main__":
    main()
