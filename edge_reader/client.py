"""The device client: sends readings to the server and never loses one.

Every reading is written to a SQLite buffer on disk (WAL, synchronous=FULL) before any
attempt to send it, so a crash or a power cut loses nothing that `enqueue` returned
from. Readings leave the buffer in batches, oldest first. A batch gets its body and an
`Idempotency-Key` once, when it is formed, and every retry sends the very same bytes
under the same key: the server stores a retried batch once even when its first answer
was lost on the way back. A batch leaves the buffer only when the server has answered
201, or when it refuses the data itself (400, 422, …): then it goes to a dead-letter
table, is logged, and the next batch goes out; when the server names the one item at
fault (`{"index": i, ...}`), only that item is dead-lettered and the rest goes again.
"""

from __future__ import annotations

import json
import logging
import math
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

TELEMETRY_PATH = "/api/telemetry/"
# The server is away, overloaded, or the device's token or URL is being fixed: keep the
# readings and try again later. Any other 4xx says the data itself is refused.
RETRY_STATUSES = frozenset({401, 403, 404, 408, 425, 429})

SCHEMA = """
CREATE TABLE IF NOT EXISTS reading (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item TEXT NOT NULL,           -- the JSON batch item {"ts": ..., "values": {...}}
    value_count INTEGER NOT NULL,
    batch_id INTEGER REFERENCES batch (id)
);
CREATE INDEX IF NOT EXISTS reading_unbatched ON reading (id) WHERE batch_id IS NULL;
CREATE TABLE IF NOT EXISTS batch (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL,
    value_count INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS dead_letter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL,
    body BLOB NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
"""


def utc_iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        raise ValueError("ts: give an aware datetime (UTC)")
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Batch:
    id: int
    idempotency_key: str
    body: bytes
    value_count: int
    attempts: int


class ReadingBuffer:
    """Readings waiting for the server, in a SQLite file that survives reboots."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: each commit reaches the disk before enqueue returns, power cut or not.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, values: Mapping[str, float], ts: datetime) -> None:
        checked = {_sensor_key(key): _finite(key, value) for key, value in values.items()}
        if not checked:
            raise ValueError("values: give at least one sensor value")
        item = json.dumps({"ts": utc_iso(ts), "values": checked}, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._db.execute("INSERT INTO reading (item, value_count) VALUES (?, ?)", (item, len(checked)))

    def next_batch(self, max_items: int) -> Batch | None:
        """The batch in flight if there is one (a retry sends it unchanged), else a new one."""
        with self._lock, self._transaction():
            row = self._db.execute(
                "SELECT id, idempotency_key, body, value_count, attempts FROM batch ORDER BY id LIMIT 1"
            ).fetchone()
            if row:
                return Batch(*row)
            items = self._db.execute(
                "SELECT id, item, value_count FROM reading WHERE batch_id IS NULL ORDER BY id LIMIT ?",
                (max_items,),
            ).fetchall()
            if not items:
                return None
            body = ("[" + ",".join(item for _, item, _ in items) + "]").encode()
            key = f"iotsite-edge-{uuid.uuid4().hex}"
            value_count = sum(count for *_, count in items)
            cursor = self._db.execute(
                "INSERT INTO batch (idempotency_key, body, value_count) VALUES (?, ?, ?)", (key, body, value_count)
            )
            batch_id = cursor.lastrowid
            self._db.execute(
                "UPDATE reading SET batch_id = ? WHERE batch_id IS NULL AND id <= ?", (batch_id, items[-1][0])
            )
            return Batch(batch_id, key, body, value_count, 0)

    def delivered(self, batch: Batch) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM reading WHERE batch_id = ?", (batch.id,))
            self._db.execute("DELETE FROM batch WHERE id = ?", (batch.id,))

    def refused(self, batch: Batch, status: int, response: str) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO dead_letter (idempotency_key, body, status, response, failed_at) VALUES (?, ?, ?, ?, ?)",
                (batch.idempotency_key, batch.body, status, response[:2000], utc_iso(datetime.now(UTC))),
            )
            self._db.execute("DELETE FROM reading WHERE batch_id = ?", (batch.id,))
            self._db.execute("DELETE FROM batch WHERE id = ?", (batch.id,))

    def refused_item(self, batch: Batch, index: int, status: int, response: str) -> bool:
        """Dead-letter the batch's item at `index` and put the others back in line.

        Safe because the server stores a batch all or nothing: none of it was stored.
        Returns False when the batch has no such item.
        """
        with self._lock, self._transaction():
            rows = self._db.execute(
                "SELECT id, item FROM reading WHERE batch_id = ? ORDER BY id", (batch.id,)
            ).fetchall()
            if not 0 <= index < len(rows):
                return False
            reading_id, item = rows[index]
            self._db.execute(
                "INSERT INTO dead_letter (idempotency_key, body, status, response, failed_at) VALUES (?, ?, ?, ?, ?)",
                (batch.idempotency_key, f"[{item}]".encode(), status, response[:2000], utc_iso(datetime.now(UTC))),
            )
            self._db.execute("DELETE FROM reading WHERE id = ?", (reading_id,))
            self._db.execute("UPDATE reading SET batch_id = NULL WHERE batch_id = ?", (batch.id,))
            self._db.execute("DELETE FROM batch WHERE id = ?", (batch.id,))
        return True

    def unbatch(self, batch: Batch) -> None:
        """Put a batch's readings back in line, to go out again in smaller batches."""
        with self._lock, self._transaction():
            self._db.execute("UPDATE reading SET batch_id = NULL WHERE batch_id = ?", (batch.id,))
            self._db.execute("DELETE FROM batch WHERE id = ?", (batch.id,))

    def failed_attempt(self, batch: Batch) -> int:
        with self._lock:
            self._db.execute("UPDATE batch SET attempts = attempts + 1 WHERE id = ?", (batch.id,))
        return batch.attempts + 1

    def pending(self) -> int:
        """Sensor values not yet accepted by the server."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(SUM(value_count), 0) FROM reading").fetchone()[0])

    def dead_letters(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT idempotency_key, body, status, response, failed_at FROM dead_letter ORDER BY id"
            ).fetchall()
        return [
            {
                "idempotency_key": key,
                "body": json.loads(body),
                "status": status,
                "response": response,
                "failed_at": failed_at,
            }
            for key, body, status, response, failed_at in rows
        ]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _sensor_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 64:
        raise ValueError(f"sensor name: 1 to 64 characters, got {key!r}")
    return key


def _finite(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{key}: must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, so a fleet coming back does not knock at once."""

    first: float = 1.0
    longest: float = 300.0

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        ceiling = min(self.longest, self.first * 2 ** max(0, attempts - 1))
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, min(retry_after or 0.0, self.longest))


@dataclass(frozen=True)
class FlushResult:
    sent: int  # sensor values the server accepted
    refused: int  # sensor values moved to the dead-letter table
    pending: int
    retry_in: float | None  # seconds until the next attempt, None when nothing waits


class TelemetryClient:
    """Queue readings and send them to `POST {server}/api/telemetry/` as the device."""

    def __init__(
        self,
        server: str,
        token: str,
        buffer_path: str | Path,
        *,
        batch_size: int = 500,
        timeout: float = 10.0,
        backoff: Backoff = Backoff(),
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.url = server.rstrip("/") + TELEMETRY_PATH
        self.buffer = ReadingBuffer(buffer_path)
        self.batch_size = batch_size
        self.backoff = backoff
        self._clock = clock
        # A short connect timeout: an unreachable server must not hold up the camera loop.
        self._http = http or httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)))
        self._headers = {"Authorization": f"Device {token}", "Content-Type": "application/json"}
        self._next_attempt = 0.0
        self._flushing = threading.Lock()  # one sender at a time keeps batches in order

    def close(self) -> None:
        self._http.close()
        self.buffer.close()

    def __enter__(self) -> TelemetryClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def enqueue(self, values: Mapping[str, float], ts: datetime | None = None) -> None:
        """Store the readings on disk; they are sent by the next `flush`."""
        self.buffer.add(values, ts or datetime.now(UTC))

    def pending(self) -> int:
        return self.buffer.pending()

    def flush(self) -> FlushResult:
        """Send batches, oldest first, until the buffer is empty or the server fails.

        Returns at once, without sending, while a backoff is running.
        """
        with self._flushing:
            return self._flush()

    def _flush(self) -> FlushResult:
        sent = refused = 0
        while self._clock() >= self._next_attempt:
            batch = self.buffer.next_batch(self.batch_size)
            if batch is None:
                break
            before = self.buffer.pending()
            outcome = self._send(batch)
            if outcome == "delivered":
                sent += batch.value_count
            elif outcome == "refused":
                refused += batch.value_count
            elif outcome == "split":
                refused += before - self.buffer.pending()
                continue
            else:
                break
        pending = self.buffer.pending()
        retry_in = max(0.0, self._next_attempt - self._clock()) if pending else None
        return FlushResult(sent=sent, refused=refused, pending=pending, retry_in=retry_in)

    def drain(self, timeout: float, sleep: Callable[[float], None] = time.sleep) -> bool:
        """Flush, waiting out backoffs, until the buffer is empty or `timeout` seconds pass."""
        deadline = self._clock() + timeout
        while True:
            result = self.flush()
            if not result.pending:
                return True
            wait = result.retry_in or 0.0
            if self._clock() + wait > deadline:
                return False
            sleep(wait)

    def _send(self, batch: Batch) -> str:
        headers = {**self._headers, "Idempotency-Key": batch.idempotency_key}
        try:
            response = self._http.post(self.url, content=batch.body, headers=headers)
        except httpx.HTTPError as error:
            self._retry_later(batch, f"{type(error).__name__}: {error}")
            return "retry"
        if 200 <= response.status_code < 300:
            self._next_attempt = 0.0
            self.buffer.delivered(batch)
            return "delivered"
        if response.status_code >= 500 or response.status_code in RETRY_STATUSES:
            self._retry_later(batch, f"HTTP {response.status_code}", _retry_after(response))
            return "retry"
        if response.status_code == 413 and self.batch_size > 1:
            self.batch_size = max(1, self.batch_size // 2)
            log.warning("the server found a batch too large; sending %d items per batch", self.batch_size)
            self.buffer.unbatch(batch)
            return "split"
        index = _refused_index(response)
        if index is not None and self.buffer.refused_item(batch, index, response.status_code, response.text):
            log.error(
                "the server refused item %d of a batch (HTTP %d): %s; kept in the dead-letter table, "
                "the rest goes again",
                index,
                response.status_code,
                response.text[:500],
            )
            return "split"
        log.error(
            "the server refused %d readings (HTTP %d): %s; kept in the dead-letter table",
            batch.value_count,
            response.status_code,
            response.text[:500],
        )
        self.buffer.refused(batch, response.status_code, response.text)
        return "refused"

    def _retry_later(self, batch: Batch, reason: str, retry_after: float | None = None) -> None:
        attempts = self.buffer.failed_attempt(batch)
        delay = self.backoff.delay(attempts, retry_after)
        self._next_attempt = self._clock() + delay
        log.warning(
            "sending %d readings failed (%s), attempt %d; next try in %.1f s",
            batch.value_count,
            reason,
            attempts,
            delay,
        )


def _refused_index(response: httpx.Response) -> int | None:
    """The batch item a 400 names (`{"index": i, "field": ..., "detail": ...}`), if any."""
    try:
        index = response.json().get("index")
    except (ValueError, AttributeError):
        return None
    return index if isinstance(index, int) and not isinstance(index, bool) else None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


class BackgroundSender:
    """Sends from a thread of its own, so a slow or absent server never holds up the camera.

    `enqueue` writes to the buffer on disk, as `TelemetryClient.enqueue` does, and wakes
    the thread; the thread flushes, waits out backoffs and sleeps when nothing is due.
    """

    def __init__(self, client: TelemetryClient, *, idle_wait: float = 30.0):
        self.client = client
        self.idle_wait = idle_wait
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telemetry-sender", daemon=True)

    def start(self) -> BackgroundSender:
        self._thread.start()
        return self

    def enqueue(self, values: Mapping[str, float], ts: datetime | None = None) -> None:
        self.client.enqueue(values, ts)
        self._wake.set()

    def flush(self) -> None:
        """Ask the thread to send now (it still respects a running backoff)."""
        self._wake.set()

    def stop(self, drain_timeout: float = 10.0) -> bool:
        """Stop the thread, then try for `drain_timeout` seconds to send what waits."""
        self._stopping.set()
        self._wake.set()
        self._thread.join()
        return self.client.drain(timeout=drain_timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                result = self.client.flush()
                wait = result.retry_in if result.pending else self.idle_wait
            except Exception:  # a full disk or a bug must not end the sending for good
                log.exception("sending readings failed")
                wait = self.idle_wait
            self._wake.wait(wait)
            self._wake.clear()
