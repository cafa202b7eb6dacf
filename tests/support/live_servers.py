"""Real server processes for the tests that need them (two workers, a browser):
uvicorn serving iotsite.asgi:application on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
UVICORN = Path(sys.executable).parent / "uvicorn"
START_TIMEOUT = 20  # seconds; a cold Django start on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "iotsite.settings", "LOG_LEVEL": "WARNING"}, **extra)
    return env


def migrate(*, database_url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=server_env(DATABASE_URL=database_url),
        check=True,
    )


@contextmanager
def uvicorn_servers(*, env: dict[str, str], count: int = 1) -> Iterator[list[str]]:
    """The base URLs of running servers, started side by side; each stopped by its own
    pid on exit."""
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [str(UVICORN), "iotsite.asgi:application", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_until_serving(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_serving(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server at {url} exited: {process.stderr.read().decode()[-2000:]}")
        try:
            httpx.get(f"{url}/live/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"The server at {url} did not start within {START_TIMEOUT} s")
