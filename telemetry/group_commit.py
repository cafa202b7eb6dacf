"""Group commit: concurrent HTTP requests of one worker process stored together.

A commit waits for the disk (an fsync) and costs far more than one reading, so a
request thread does not store its readings itself: it hands them to the process's
writer and waits. The writer takes what arrives within TELEMETRY_GROUP_COMMIT_WINDOW_MS
of the first request (or until TELEMETRY_GROUP_COMMIT_MAX_READINGS), stores it with
services.readings_ingest_group (one transaction, one statement) and answers each
request with its own outcome only after the commit: a 201 still means committed.
Everything per request stays per request: the first-value rule (the earlier request
of a group wins), Idempotency-Key, alert evaluation in the transaction, the live push
after it; a request the database refuses is stored again alone and fails alone.

PostgreSQL only. On SQLite (`make run`, most tests), or when the caller is already
inside a transaction, a request is stored inline, in its own thread, as before.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from telemetry import services

logger = logging.getLogger(__name__)


@dataclass
class _Pending:
    entry: services.IngestEntry
    answer: Future = field(default_factory=Future)


class GroupWriter:
    """A thread with its own database connection, storing the groups of one process."""

    def __init__(self, *, window_s: float, max_readings: int):
        self.window_s = window_s
        self.max_readings = max_readings
        self.groups = 0  # stored so far, and the requests in them (for tests and logs)
        self.entries = 0
        self._inbox: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="telemetry-group-commit", daemon=True)
        self._thread.start()

    def submit(self, entry: services.IngestEntry) -> services.IngestResult:
        """Store the entry with whatever else arrives; return once committed."""
        pending = _Pending(entry)
        self._inbox.put(pending)
        return pending.answer.result()

    def stop(self) -> None:
        """Store what is queued, then end the thread and close its connection."""
        self._inbox.put(None)
        self._thread.join()

    def _run(self) -> None:
        _outside_the_pool()
        try:
            while (group := self._next_group()) is not None:
                self._store(group)
        finally:
            connection.close()

    def _next_group(self) -> list[_Pending] | None:
        first = self._inbox.get()
        if first is None:
            return None
        group = [first]
        readings = len(first.entry.readings)
        deadline = time.monotonic() + self.window_s
        while readings < self.max_readings:
            try:
                # What is already queued is taken at once; then wait out the window.
                pending = self._inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if pending is None:
                self._inbox.put(None)  # stop after this group
                break
            group.append(pending)
            readings += len(pending.entry.readings)
        return group

    def _store(self, group: list[_Pending]) -> None:
        try:
            outcomes = services.readings_ingest_group([pending.entry for pending in group])
        except BaseException as error:  # the database is away, or a bug: every request fails
            logger.exception("group commit of %d request(s) failed", len(group))
            # A broken connection is opened anew for the next group.
            connection.close()
            for pending in group:
                pending.answer.set_exception(error)
            return
        self.groups += 1
        self.entries += len(group)
        for pending, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, Exception):
                pending.answer.set_exception(outcome)
            else:
                pending.answer.set_result(outcome)


_writer: GroupWriter | None = None
_writer_pid: int | None = None
_writer_lock = threading.Lock()


def writer() -> GroupWriter:
    """This process's writer, started on first use (after a pre-forking server forked)."""
    global _writer, _writer_pid
    if _writer is None or _writer_pid != os.getpid():
        with _writer_lock:
            if _writer is None or _writer_pid != os.getpid():
                _writer = GroupWriter(
                    window_s=settings.TELEMETRY_GROUP_COMMIT_WINDOW_MS / 1000,
                    max_readings=settings.TELEMETRY_GROUP_COMMIT_MAX_READINGS,
                )
                _writer_pid = os.getpid()
    return _writer


def writer_stop() -> None:
    """Stop this process's writer (tests: its connection must not outlive the database)."""
    global _writer
    with _writer_lock:
        if _writer is not None and _writer_pid == os.getpid():
            _writer.stop()
        _writer = None


def _outside_the_pool() -> None:
    """Give this thread a connection of its own, not one from the pool (ASGI): the
    request threads waiting on the writer could otherwise hold every pooled one."""
    options = connection.settings_dict["OPTIONS"]
    if options.get("pool"):
        connection.settings_dict = {
            **connection.settings_dict,
            "OPTIONS": {name: value for name, value in options.items() if name != "pool"},
        }


def grouping() -> bool:
    """Whether a request here is stored by the writer rather than inline."""
    return (
        settings.TELEMETRY_GROUP_COMMIT
        and connection.vendor == "postgresql"
        # Inside the caller's transaction (a test, a management command) the readings
        # must commit or roll back with it: store them inline.
        and not connection.in_atomic_block
    )


def ingest(entry: services.IngestEntry) -> services.IngestResult:
    """Store one request's readings, grouped with others' when it can; return once
    committed, or raise what refused this request alone."""
    if grouping():
        if connection.settings_dict["OPTIONS"].get("pool"):
            connection.close()  # back to the pool while this thread waits (nothing more to query)
        return writer().submit(entry)
    return services.readings_ingest_group_one(entry)
