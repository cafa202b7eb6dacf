"""deploy/nginx.conf, as `make serve` runs it (deploy/serve.py renders it for the local
machine), sends the devices' long-polls to the ASGI server, where a waiting device
holds no worker, and the rest of the device API to the WSGI workers. A real nginx in
front of two stand-in upstreams that answer with their own name."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))

from serve import nginx_config, nginx_executable

pytestmark = pytest.mark.processes  # nginx

TOKEN = "iotd_" + "a" * 43


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stand_in(name: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def answer(self):
            body = name.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def nginx(tmp_path) -> Iterator[str]:
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("Debian's nginx is not installed (make test installs it)")
    web, ws = stand_in("wsgi"), stand_in("asgi")
    listen = f"127.0.0.1:{free_port()}"
    runtime = tmp_path / "nginx"
    runtime.mkdir()
    config = nginx_config(
        listen=listen,
        http=f"127.0.0.1:{web.server_address[1]}",
        ws=f"127.0.0.1:{ws.server_address[1]}",
        runtime=runtime,
    )
    (runtime / "nginx.conf").write_text(config)
    process = subprocess.Popen(
        [nginx_executable(), "-c", str(runtime / "nginx.conf"), "-p", str(runtime)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, process.stderr.read().decode()
            try:
                socket.create_connection(listen.split(":"), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield f"http://{listen}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        web.shutdown()
        ws.shutdown()


ASGI_PATHS = [
    "/ws/live/",
    "/api/device/commands/?timeout=20",
    "/api/device/commands/",
    "/api/device/attributes/updates/?timeout=5",
    f"/api/v1/{TOKEN}/rpc?timeout=20000",
    f"/api/v1/{TOKEN}/rpc",
    f"/api/v1/{TOKEN}/attributes/updates?timeout=20000",
]
WSGI_PATHS = [
    "/api/device/commands/12/",
    "/api/device/attributes/",
    f"/api/v1/{TOKEN}/rpc/12",
    f"/api/v1/{TOKEN}/attributes?sharedKeys=a",
    f"/api/v1/{TOKEN}/telemetry",
    "/api/devices/3/commands/",
    "/",
]


def test_long_polls_and_sockets_go_to_asgi_and_the_rest_to_wsgi(nginx):
    with httpx.Client(base_url=nginx) as client:
        assert {path: client.get(path).text for path in ASGI_PATHS} == dict.fromkeys(ASGI_PATHS, "asgi")
        assert {path: client.get(path).text for path in WSGI_PATHS} == dict.fromkeys(WSGI_PATHS, "wsgi")
