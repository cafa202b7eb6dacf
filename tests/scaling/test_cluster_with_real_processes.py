"""The whole topology with real processes (bench/cluster.py, shortened): two app hosts
behind HAProxy, Redis, pg_auto_failover's monitor and two PostgreSQL nodes, each in a
network namespace of its own; one app host and then the PostgreSQL primary are
SIGKILLed under load. Slow (about two minutes); needs root and `make cluster-deps`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import pgnodes

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(
        os.geteuid() != 0
        or not all(shutil.which(tool) for tool in ("haproxy", "redis-server", "pg_autoctl", "ip", "runuser"))
        or not (pgnodes.BIN / "postgres").exists(),
        reason="needs root and make cluster-deps (haproxy, redis-server, pg_auto_failover)",
    ),
]


def test_nothing_acknowledged_is_lost_when_an_app_host_and_then_the_database_primary_die():
    run = subprocess.run(
        [sys.executable, "bench/cluster.py", "--seconds", "36", "--devices", "20", "--interval", "0.5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(json.dumps(result))
    assert result["acknowledged"] > 100
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["errors_5xx"] == 0  # 503 with Retry-After during the switch only
    assert result["new_primary"] != result["primary_killed"]
    assert result["seconds_without_primary"] < 30
    assert result["history_from_replica"] > 0
    assert result["stored"] >= result["acknowledged"]
