"""Read replicas: history, exports and the dashboard's reads from a streaming replica.

Only views marked with `replica_reads` read from a replica, and only what they read
through the ORM or telemetry's storage while they run; everything else, every write,
and every read after a write in the same request go to the primary ("default"), so a
request always sees its own writes. A browser or client that has just written (any
successful unsafe request) carries the `primary_reads` cookie for DATABASE_REPLICA_MAX_LAG
and reads from the primary meanwhile, so a page shown after a form sees what the form did.

A replica serves only while it is usable: reachable, streaming from its primary (or a
primary itself, after a failover) and no further behind than DATABASE_REPLICA_MAX_LAG.
Each process checks every replica at most every DATABASE_REPLICA_CHECK_EVERY on a
connection of its own; an unusable replica is skipped (the primary answers) until a
later check finds it usable again. A replica that fails in the middle of a view is
marked unusable and the view runs again on the primary (it only reads).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

from iotsite.middleware import SyncAndAsyncMiddleware

logger = logging.getLogger(__name__)

PRIMARY_READS_COOKIE = "primary_reads"
# A probe that cannot connect in this long finds the replica unreachable.
PROBE_CONNECT_TIMEOUT = 2
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Seconds behind the primary, or NULL when the replica cannot tell (its WAL receiver is
# not streaming: cut off from the primary, so of unknown age). A server out of recovery
# is a primary (promoted by a failover) and is never behind.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN coalesce((SELECT status FROM pg_stat_wal_receiver), '') <> 'streaming' THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())
END
"""

# The replica chosen for this request's reads, "" while they go to the primary.
_reading_from: ContextVar[str] = ContextVar("replica_reading_from", default="")
_checks: dict[str, tuple[float, bool]] = {}
_checks_lock = threading.Lock()


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


def lag_seconds(alias: str) -> float | None:
    """How far the replica is behind, None when it cannot tell; raises when unreachable."""
    params = connections[alias].get_connection_params()
    params.pop("cursor_factory", None)
    params["connect_timeout"] = PROBE_CONNECT_TIMEOUT
    with psycopg.connect(**params, autocommit=True) as connection:
        row = connection.execute(LAG_SQL).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def replica_usable(alias: str) -> bool:
    """Whether this replica may serve reads now; checked at most every CHECK_EVERY."""
    now = time.monotonic()
    with _checks_lock:
        checked_at, usable = _checks.get(alias, (float("-inf"), False))
        if now - checked_at < settings.DATABASE_REPLICA_CHECK_EVERY.total_seconds():
            return usable
        # Other threads keep the previous answer while this one checks.
        _checks[alias] = (now, usable)
    try:
        lag = lag_seconds(alias)
    except psycopg.Error as error:
        lag, reason = None, f"unreachable: {error}".strip()
    else:
        reason = "not streaming" if lag is None else f"{lag:.1f} s behind"
    usable = lag is not None and lag <= settings.DATABASE_REPLICA_MAX_LAG.total_seconds()
    with _checks_lock:
        previous = _checks.get(alias, (0.0, False))[1]
        _checks[alias] = (time.monotonic(), usable)
    if usable != previous:
        logger.warning(
            "replica %s %s: %s", alias, "usable" if usable else "not usable, reads go to the primary", reason
        )
    return usable


def replica_mark_unusable(alias: str) -> None:
    with _checks_lock:
        _checks[alias] = (time.monotonic(), False)


def replica_checks_forget() -> None:
    with _checks_lock:
        _checks.clear()


def replica_for_reads() -> str:
    """A usable replica, tried in random order to spread the load; else the primary."""
    aliases = replica_aliases()
    random.shuffle(aliases)
    for alias in aliases:
        if replica_usable(alias):
            return alias
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Reads inside `reads_from_replica` go to its replica; everything else to the primary."""

    def db_for_read(self, model, **hints) -> str:
        return _reading_from.get() or DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        # Reads after a write in the same request must see it.
        _reading_from.set("")
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the same data on every alias

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


def wrote_recently(request) -> bool:
    return PRIMARY_READS_COOKIE in request.COOKIES


@contextmanager
def reads_from_replica(request=None) -> Iterator[str]:
    """Route this block's reads to a usable replica (none when the request's client
    has just written, or none is usable). Yields the alias chosen."""
    alias = DEFAULT_DB_ALIAS
    if replica_aliases() and not (request is not None and wrote_recently(request)):
        alias = replica_for_reads()
    token = _reading_from.set("" if alias == DEFAULT_DB_ALIAS else alias)
    try:
        yield alias
    finally:
        _reading_from.reset(token)


def replica_reads(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a read-only view (a function, or an APIView's get) to read from a replica."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        request = next((arg for arg in args if hasattr(arg, "COOKIES")), None)
        with reads_from_replica(request) as alias:
            try:
                return view(*args, **kwargs)
            except OperationalError:
                if alias == DEFAULT_DB_ALIAS:
                    raise
                # The replica failed under us: once more, on the primary.
                replica_mark_unusable(alias)
                connections[alias].close_if_unusable_or_obsolete()
                logger.warning("replica %s failed during a read; retrying on the primary", alias)
        return view(*args, **kwargs)

    return wrapped


class PrimaryReadsAfterWriteMiddleware(SyncAndAsyncMiddleware):
    """After a successful write, the client reads from the primary for a while."""

    def call(self, request):
        return self._mark(request, self.get_response(request))

    async def acall(self, request):
        return self._mark(request, await self.get_response(request))

    @staticmethod
    def _mark(request, response):
        if request.method in SAFE_METHODS or response.status_code >= 400 or not replica_aliases():
            return response
        from devices.authentication import DevicePrincipal

        # Devices never read history back: their posts need no cookie (nor its bytes).
        if not isinstance(getattr(request, "user", None), DevicePrincipal):
            response.set_cookie(
                PRIMARY_READS_COOKIE,
                "1",
                max_age=int(settings.DATABASE_REPLICA_MAX_LAG.total_seconds()) + 1,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
