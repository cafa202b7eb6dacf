"""A stand-in for the server's `POST /api/telemetry/`, run as a separate process in tests.

    python telemetry_server.py --port P --db FILE --token T [--fail-every N] [--lose-answer-every N]

Stores readings in a SQLite file, so what was stored survives the process being killed
and started again, as a real server's database does. Implements the contract the
device client relies on: `Authorization: Device <token>`, a JSON array of
`{"ts", "values"}` items stored all or nothing, `201 {"accepted": n}`, and
`Idempotency-Key`: a key seen before with the same body is answered as the first time
without storing again; with another body it is a 422.
`--fail-every N` answers 503 to every Nth request; `--lose-answer-every N` stores every
Nth batch and then drops the connection without answering, as a crash after the commit
would.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sqlite3
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCHEMA = """
CREATE TABLE IF NOT EXISTS reading (id INTEGER PRIMARY KEY, ts TEXT, sensor TEXT, value REAL);
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, sha256 TEXT, accepted INTEGER);
"""


class BadBody(Exception):
    pass


def parse(body: bytes) -> list[tuple[str, str, float]]:
    try:
        items = json.loads(body)
    except ValueError as error:
        raise BadBody(f"not JSON: {error}") from None
    if not isinstance(items, list):
        raise BadBody("expected a JSON array")
    rows = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"ts", "values"}:
            raise BadBody(f"[{index}]: expected {{ts, values}}")
        try:
            datetime.fromisoformat(item["ts"])
        except (TypeError, ValueError):
            raise BadBody(f"[{index}].ts: not ISO 8601") from None
        for sensor, value in item["values"].items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BadBody(f"[{index}].values.{sensor}: not a finite number")
            rows.append((item["ts"], sensor, float(value)))
    return rows


class Handler(BaseHTTPRequestHandler):
    server: TelemetryServer

    def log_message(self, format: str, *args) -> None:  # quiet: the test reads the database
        pass

    def do_POST(self) -> None:
        if self.path != "/api/telemetry/":
            return self.answer(404, {"detail": "not found"})
        if self.headers.get("Authorization") != f"Device {self.server.token}":
            return self.answer(401, {"detail": "bad device token"})
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        number = self.server.count_request()
        if self.server.fail_every and number % self.server.fail_every == 0:
            return self.answer(503, {"detail": "try later"})
        try:
            rows = parse(body)
        except BadBody as error:
            return self.answer(400, {"detail": str(error)})
        status, answer = self.server.store(self.headers.get("Idempotency-Key"), body, rows)
        if self.server.lose_answer_every and number % self.server.lose_answer_every == 1 and status == 201:
            self.close_connection = True
            self.connection.shutdown(2)  # stored, but the answer never reaches the client
            return
        self.answer(status, answer)

    def answer(self, status: int, document: dict) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class TelemetryServer(ThreadingHTTPServer):
    allow_reuse_address = True

    def __init__(self, port: int, db: str, token: str, fail_every: int, lose_answer_every: int):
        super().__init__(("127.0.0.1", port), Handler)
        self.token = token
        self.fail_every = fail_every
        self.lose_answer_every = lose_answer_every
        self._lock = threading.Lock()
        self._requests = 0
        self._db = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def count_request(self) -> int:
        with self._lock:
            self._requests += 1
            return self._requests

    def store(self, key: str | None, body: bytes, rows: list) -> tuple[int, dict]:
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if key is not None:
                    seen = self._db.execute("SELECT sha256, accepted FROM idempotency WHERE key = ?", (key,)).fetchone()
                    if seen:
                        self._db.execute("ROLLBACK")
                        if seen[0] != digest:
                            return 422, {"detail": "Idempotency-Key reused for another body"}
                        return 201, {"accepted": seen[1]}
                    self._db.execute("INSERT INTO idempotency VALUES (?, ?, ?)", (key, digest, len(rows)))
                self._db.executemany("INSERT INTO reading (ts, sensor, value) VALUES (?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return 201, {"accepted": len(rows)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--lose-answer-every", type=int, default=0)
    args = parser.parse_args()
    server = TelemetryServer(args.port, args.db, args.token, args.fail_every, args.lose_answer_every)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
