"""`make serve` as it runs: deploy/serve.py starts Debian's nginx on deploy/nginx.conf in
front of gunicorn and uvicorn, on PostgreSQL and Redis. Through it, a client's own
X-Forwarded-For never counts: the log-in lockout sees the real address."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect as ws_connect

pytestmark = pytest.mark.processes  # deploy/serve.py, nginx, gunicorn, uvicorn, sendalerts

ROOT = Path(settings.BASE_DIR)
START_TIMEOUT = 180  # collectstatic compresses every file, migrate builds a database
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# A database number no other test uses: the lockout counts of an earlier run must go.
REDIS_URL = "redis://127.0.0.1:6379/14"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(bind: str) -> bool:
    host, _, port = bind.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def served(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("make serve runs on PostgreSQL: run with DATABASE_URL=postgres://...")
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("Debian's nginx is not installed (make test installs it)")
    database = f"iotsite_serve_{uuid.uuid4().hex[:12]}"
    address, web, ws = (f"127.0.0.1:{free_port()}" for _ in range(3))
    env = {
        # Not the test run's own: DEBUG, its database, and the browser tests' async switch
        # (which the deploy check rightly refuses).
        **{
            key: value
            for key, value in os.environ.items()
            if key not in {"DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        },
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": REDIS_URL,
        "CHANNEL_LAYER_PREFIX": f"serve{uuid.uuid4().hex}",
        "SECRET_KEY": "serve-test-" + "k" * 50,
        "SERVE_ADDRESS": address,
        "WEB_BIND": web,
        "WS_BIND": ws,
        "WEB_WORKERS": "1",
        "SERVE_RUNTIME_DIR": str(tmp_path / "runtime"),
        "LOGIN_FAILURES_PER_ADDRESS": "3",
        "LOGIN_FAILURES_PER_USERNAME": "100",
    }
    env.pop("MQTT_HOST", None)
    redis.Redis.from_url(REDIS_URL).flushdb()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "deploy/serve.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://{address}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        yield base, log_path
    finally:
        process.send_signal(signal.SIGTERM)  # serve.py stops nginx, gunicorn and uvicorn
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        left_running = [bind for bind in (address, web, ws) if listening(bind)]
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        assert not left_running, f"still serving after make serve stopped: {left_running}"


def test_make_serve_runs_nginx_and_a_spoofed_forwarded_for_does_not_count(served):
    base, _log = served
    answer = httpx.get(f"{base}/healthz")
    assert answer.headers["server"].startswith("nginx")  # the real proxy, not a copier of bytes
    assert answer.headers["x-request-id"]  # nginx's $request_id, passed on

    # Three failed log-ins, each claiming another address, lock out the one address they came from.
    codes = [
        httpx.post(
            f"{base}/api/auth/token/",
            json={"username": f"nobody{n}", "password": "wrong"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(4)
    ]
    assert codes == [401, 401, 401, 429]

    # /ws/ goes to uvicorn through the same nginx.
    ws_url = base.replace("http://", "ws://") + "/ws/live/demo/"
    with ws_connect(ws_url, additional_headers={"Origin": base}, open_timeout=10) as demo:
        assert json.loads(demo.recv(timeout=10))["type"] == "demo"
