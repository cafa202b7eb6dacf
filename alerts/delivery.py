"""The outbox worker's steps: claim due notifications, send them, record each attempt.

Several sendalerts processes may run at once. A worker claims rows by stamping them
with its own claim id in one UPDATE whose WHERE re-checks that they are still due and
unclaimed (on PostgreSQL the candidates are picked with FOR UPDATE SKIP LOCKED, so
workers take disjoint rows without waiting on each other); it then sends only the
rows carrying its claim id. A worker that dies mid-send leaves its rows claimed until
the lease lapses, after which another worker retries them.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.models import Notification, NotificationAttempt
from alerts.transports import TransportError, transport_for


def _due(now: datetime):
    return Notification.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        status__in=[Notification.PENDING, Notification.SENDING],
        next_attempt_at__lte=now,
    )


def notifications_claim(*, now: datetime, limit: int) -> list[Notification]:
    claim_id = uuid.uuid4().hex
    with transaction.atomic():
        # alerts_notification_due serves the scan.
        candidates = list(
            _due(now)
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:limit]
        )
        if not candidates:
            return []
        _due(now).filter(id__in=candidates).update(
            status=Notification.SENDING,
            claimed_by=claim_id,
            claimed_until=now + timedelta(seconds=settings.ALERTS_SEND_LEASE_S),
        )
    return list(
        Notification.objects.filter(claimed_by=claim_id, status=Notification.SENDING)
        .select_related("channel", "event__device")
        .order_by("id")
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt, capped."""
    seconds = settings.ALERTS_RETRY_BASE_S * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.ALERTS_RETRY_MAX_S))


def notification_send(*, notification: Notification, now: datetime | None = None) -> bool:
    """One attempt at a claimed notification; True when it was delivered."""
    started_at = timezone.now()
    error = None
    try:
        transport_for(notification.channel).send(notification)
    except TransportError as failure:
        error = failure
    except Exception as failure:  # a bug in a transport must not kill the worker or lose the row
        error = TransportError(f"{type(failure).__name__}: {failure}")
    finished_at = timezone.now()
    now = now or finished_at
    attempts = notification.attempts + 1
    NotificationAttempt.objects.create(
        notification=notification,
        started_at=started_at,
        finished_at=finished_at,
        ok=error is None,
        error="" if error is None else error.message,
    )
    if error is None:
        fields = {"status": Notification.DELIVERED, "delivered_at": finished_at, "last_error": ""}
    elif error.permanent or attempts >= settings.ALERTS_MAX_ATTEMPTS:
        fields = {"status": Notification.FAILED, "last_error": error.message}
    else:
        fields = {
            "status": Notification.PENDING,
            "last_error": error.message,
            "next_attempt_at": now + retry_delay(attempts),
        }
    # Only while our claim holds: a lapsed lease means another worker owns it now.
    Notification.objects.filter(pk=notification.pk, claimed_by=notification.claimed_by).update(
        attempts=attempts, claimed_by="", claimed_until=None, **fields
    )
    for name, value in {"attempts": attempts, **fields}.items():
        setattr(notification, name, value)
    return error is None


def notifications_deliver_due(*, now: datetime | None = None, limit: int = 50) -> int:
    """Claim and send what is due; the number of notifications attempted."""
    claimed = notifications_claim(now=now or timezone.now(), limit=limit)
    for notification in claimed:
        notification_send(notification=notification, now=now)
    return len(claimed)
