"""What the benchmarks share to run servers under test: ports, readiness, worker pids."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

START_TIMEOUT = 30  # seconds: a cold Django start on a busy 2-core machine


def bench_database(name: str) -> str:
    """A bench's database name; BENCH_DB_SUFFIX keeps the benches of two checkouts
    sharing one PostgreSQL server from dropping each other's database."""
    return name + os.environ.get("BENCH_DB_SUFFIX", "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(base: str, process: subprocess.Popen, *, path: str = "/api/device/") -> None:
    """Return once the server answers HTTP at all (any status), or raise if it exits or
    does not answer within START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            httpx.get(base + path, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the server at {base} did not start") from None
            time.sleep(0.2)


def worker_pids(master_pid: int) -> list[int]:
    """The worker processes a gunicorn or uvicorn master started."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []
