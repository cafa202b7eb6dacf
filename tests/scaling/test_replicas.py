"""Read replicas against a real streaming standby: PostgreSQL servers of the test's own
(bench/pgnodes.py), the app in a process of its own with DATABASE_REPLICA_URLS set
(replica_probe.py). Needs Debian's PostgreSQL 15 server binaries and root (the servers
run as the postgres user); skipped without them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import pgnodes

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(
        not (pgnodes.BIN / "postgres").exists() or os.geteuid() != 0 or not shutil.which("runuser"),
        reason="needs PostgreSQL 15 server binaries and root",
    ),
]
PROBE = Path(__file__).with_name("replica_probe.py")
ROOT = PROBE.parent.parent.parent


@pytest.fixture(scope="module")
def primary_and_standby():
    base = pgnodes.workdir("iotsite-replica-")
    nodes = []
    try:
        primary = pgnodes.primary_create(base)
        nodes.append(primary)
        primary.sql("CREATE DATABASE iotsite")
        standby = pgnodes.standby_create(primary, base)
        nodes.append(standby)
        yield base, primary, standby
    finally:
        pgnodes.remove(base, *nodes)


def test_history_export_and_dashboard_read_from_a_replica_that_keeps_up_and_fall_back_otherwise(
    primary_and_standby,
):
    base, primary, standby = primary_and_standby
    stop_standby = ["runuser", "-u", "postgres", "--", str(pgnodes.BIN / "pg_ctl"), "-D", str(standby.data)]
    env = {
        **os.environ,
        "DATABASE_URL": primary.url("iotsite"),
        "DATABASE_REPLICA_URLS": standby.url("iotsite"),
        "DATABASE_REPLICA_MAX_LAG": "5",
        "DATABASE_REPLICA_CHECK_EVERY": "0",
        "DB_CONNECT_TIMEOUT": "2",
        "PRIMARY_PORT": str(primary.port),
        "STANDBY_PORT": str(standby.port),
        "DEBUG": "true",
        "REDIS_URL": "",
        "ALLOWED_HOSTS": "testserver",
    }
    run = subprocess.run(
        [sys.executable, str(PROBE), str(base), *stop_standby, "-m", "immediate", "-w", "stop"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[:3000]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    # Caught up: the replica answers the history API and the dashboard.
    assert result["caught_up_points"] == 29
    assert result["caught_up_series_from"] == ["replica0"]
    assert result["dashboard_status"] == 200
    assert result["dashboard_from"] == ["replica0"]
    # Replay paused: within the bound the replica answers, without the newest reading...
    assert result["paused_within_bound_from"] == ["replica0"]
    assert result["paused_within_bound_points"] == 29
    assert result["paused_export_rows"] == 29
    # ...and past it the primary, with it.
    assert result["lagging_from"] == ["default"]
    assert result["lagging_points"] == 30
    assert result["lagging_export_rows"] == 30
    assert result["export_from"] == [["replica0"], ["default"]]
    assert result["resumed_from"] == ["replica0"]
    # Reads after a write go to the primary.
    assert result["write_sets_cookie"] is True
    assert result["after_write_from"] == ["default"]
    # A replica gone: the request still answers, from the primary, without waiting long.
    assert result["replica_down_points"] == 30
    assert "default" in result["replica_down_from"]
    assert result["unreachable_points"] == 30
    assert result["unreachable_from"] == ["default"]
    assert result["unreachable_seconds"] < 3
