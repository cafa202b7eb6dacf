"""The edge reader's stand-in telemetry server (tests/edge_reader/telemetry_server.py),
run as a real process that tests stop and start again."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

SERVER_SCRIPT = Path(__file__).parent.parent / "edge_reader" / "telemetry_server.py"
TOKEN = "iotd_test-device-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """The stand-in server; its database file outlives the process, as a real one's does."""

    def __init__(self, tmp_path: Path, **options: int):
        self.port = free_port()
        self.db = tmp_path / "server.sqlite3"
        self.options = options
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, str(SERVER_SCRIPT), "--port", str(self.port), "--db", str(self.db), "--token", TOKEN]
        for name, value in self.options.items():
            command += [f"--{name.replace('_', '-')}", str(value)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def kill(self) -> None:
        """SIGKILL: no goodbye to open connections, as when the server's host dies."""
        if self.process:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process.stdout.close()
            self.process = None

    def stored(self) -> list[tuple[str, str, float]]:
        with sqlite3.connect(self.db) as db:
            return db.execute("SELECT ts, sensor, value FROM reading ORDER BY id").fetchall()
