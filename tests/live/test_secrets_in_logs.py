"""Device tokens and access JWTs never reach a log: real uvicorn and gunicorn processes,
with their access logs on and our request log in JSON, serve requests that carry both
in the path, the query string and the WebSocket handshake; then every line they wrote
is searched for the secrets."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from tests.live.test_live_two_workers import registered_device
from tests.support.live_servers import BASE_DIR, START_TIMEOUT, UVICORN, free_port, server_env

pytestmark = pytest.mark.processes  # uvicorn and gunicorn

GUNICORN = Path(sys.executable).parent / "gunicorn"


def start(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_serving(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not start:\n{log_path.read_text(errors='replace')[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def servers(server_database, tmp_path):
    env = server_env(DATABASE_URL=server_database, LOG_LEVEL="INFO", LOG_FORMAT="json", LOG_REQUESTS="true")
    uvicorn_port, gunicorn_port = free_port(), free_port()
    logs = {"uvicorn": tmp_path / "uvicorn.log", "gunicorn": tmp_path / "gunicorn.log"}
    processes = [
        start(
            [str(UVICORN), "iotsite.asgi:application", "--host", "127.0.0.1", "--port", str(uvicorn_port)],
            env,
            logs["uvicorn"],
        ),
        start(
            [
                str(GUNICORN),
                "iotsite.wsgi:application",
                "-c",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{gunicorn_port}",
                "--workers",
                "1",
                "--access-logfile",
                "-",
            ],
            env,
            logs["gunicorn"],
        ),
    ]
    urls = [f"http://127.0.0.1:{uvicorn_port}", f"http://127.0.0.1:{gunicorn_port}"]
    try:
        for url, process, log_path in zip(urls, processes, logs.values(), strict=True):
            wait_serving(url, process, log_path)
        yield urls, processes, logs
    finally:
        for process in processes:
            stop(process)


def secret_carrying_requests(base_url: str, *, token: str, access: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        assert client.post(f"/api/v1/{token}/telemetry", content=b"{bad json").status_code == 400
        assert client.post(f"/api/v1/{token}/telemetry", json={"t": 1}).status_code == 200
        assert client.get(f"/api/v1/{token}/attributes").status_code == 200
        assert client.get(f"/api/v1/{token}/rpc", params={"timeout": 100}).status_code == 408
        assert client.post(f"/api/v1/{token}/rpc/7", json={}).status_code == 404
        assert client.get(f"/api/v1/{token}/claim").status_code == 404
        assert client.get(f"/api/v1/{token}/").status_code == 404
        assert client.get(f"/api/v1/{token}/telemetry").status_code == 405
        assert client.get(f"/api/v1/{token}x/attributes").status_code == 401
        assert client.get("/api/devices/", params={"token": access}).status_code == 401
        assert client.get("/no-such-page/", params={"token": access}).status_code == 404


def test_no_log_line_holds_a_device_token_or_a_jwt(servers):
    (uvicorn_url, gunicorn_url), processes, logs = servers
    access, _device_id, token = registered_device(uvicorn_url)
    for url in (uvicorn_url, gunicorn_url):
        secret_carrying_requests(url, token=token, access=access)
    origin = {"Origin": uvicorn_url}
    ws_base = uvicorn_url.replace("http://", "ws://")
    with ws_connect(f"{ws_base}/ws/live/?token={access}", additional_headers=origin, open_timeout=10) as browser:
        browser.send(json.dumps({"action": "subscribe", "device": "*"}))
        assert json.loads(browser.recv(timeout=5))["type"] == "subscribed"
    with ws_connect(
        f"{ws_base}/ws/live/", additional_headers=origin, subprotocols=["bearer", access], open_timeout=10
    ) as app:
        assert app.subprotocol == "bearer"
        app.send(json.dumps({"action": "subscribe", "device": "*"}))
        assert json.loads(app.recv(timeout=5))["type"] == "subscribed"
    for process in processes:
        stop(process)

    written = {name: path.read_text(errors="replace") for name, path in logs.items()}
    for name, text in written.items():
        assert token not in text, f"the device token is in the {name} log"
        assert access not in text, f"the JWT is in the {name} log"
        assert token[5:25] not in text and access.split(".")[2][:20] not in text, name
    # The lines were written, masked: the test saw the logs it means to check.
    assert '"GET /api/v1/***/attributes HTTP/1.1" 200' in written["uvicorn"]  # uvicorn's access log
    assert "/ws/live/?token=***" in written["uvicorn"]  # uvicorn's WebSocket line
    assert '"GET /api/v1/***/attributes HTTP/1.1" 200' in written["gunicorn"]  # gunicorn's access log
    assert "/api/devices/?token=***" in written["gunicorn"]
    for text in written.values():
        requests = [json.loads(line) for line in text.splitlines() if '"logger": "iotsite.request"' in line]
        assert len(requests) >= 10  # our own request log
