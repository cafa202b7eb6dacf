"""Alert rules, the events they raise, and the outbox of notifications about them.

An AlertEvent row is written for every state change of a rule (ok → firing, firing →
resolved) in the transaction that caused it, together with one Notification row per
channel of the rule: the outbox that `sendalerts` delivers. Nothing is sent from the
ingest path itself, so a slow mail server never slows ingestion and a crash between
commit and delivery loses nothing.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from devices.models import Device


def webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class NotificationChannel(models.Model):
    EMAIL = "email"
    WEBHOOK = "webhook"
    KINDS = [(EMAIL, "Email"), (WEBHOOK, "Webhook")]

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_channels")
    kind = models.CharField(max_length=16, choices=KINDS)
    name = models.CharField(max_length=100, blank=True, default="")
    address = models.EmailField(blank=True, default="")
    url = models.URLField(max_length=2000, blank=True, default="")
    secret = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or (self.address if self.kind == self.EMAIL else self.url)


class AlertRule(models.Model):
    BOUNDS = "bounds"
    SILENCE = "silence"
    KINDS = [(BOUNDS, "Value outside bounds"), (SILENCE, "No data")]

    OK = "ok"
    FIRING = "firing"
    STATES = [(OK, "OK"), (FIRING, "Firing")]

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=16, choices=KINDS, default=BOUNDS)
    # A sensor key, kept as text so a rule may wait for a sensor that has not reported
    # yet; empty only for a silence rule watching the whole device.
    sensor = models.CharField(max_length=64, blank=True, default="")
    lower = models.FloatField(null=True, blank=True)
    upper = models.FloatField(null=True, blank=True)
    # Firing clears only once a value is back inside by this margin: no flapping.
    hysteresis = models.FloatField(default=0)
    # Bounds: out of bounds at least this long before firing. Silence: the quiet time.
    duration_s = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    channels = models.ManyToManyField(NotificationChannel, blank=True, related_name="rules")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Evaluation state, written by alerts.evaluation under a row lock.
    state = models.CharField(max_length=16, choices=STATES, default=OK)
    state_since = models.DateTimeField(null=True, blank=True)
    # The first out-of-bounds reading of the current run (duration not yet reached).
    pending_since = models.DateTimeField(null=True, blank=True)
    # The newest reading time evaluated: older readings arriving late never flip the state.
    evaluated_ts = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device_id", "sensor", "id"]
        indexes = [
            # The rule cache loads a device's enabled rules on ingest.
            models.Index(fields=["device", "sensor"], name="alerts_rule_device_sensor"),
            # The silence check scans enabled silence rules only.
            models.Index(fields=["kind"], condition=Q(kind="silence", enabled=True), name="alerts_rule_silence"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.sensor or '*'} {self.kind}"


class AlertEvent(models.Model):
    FIRING = "firing"
    RESOLVED = "resolved"
    STATES = [(FIRING, "Firing"), (RESOLVED, "Resolved")]

    id = models.BigAutoField(primary_key=True)
    rule = models.ForeignKey(AlertRule, on_delete=models.SET_NULL, null=True, related_name="events")
    # Kept on the event so the history survives the rule's deletion.
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alert_events")
    sensor = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(max_length=16, choices=AlertRule.KINDS, default=AlertRule.BOUNDS)
    state = models.CharField(max_length=16, choices=STATES)
    value = models.FloatField(null=True, blank=True)
    lower = models.FloatField(null=True, blank=True)
    upper = models.FloatField(null=True, blank=True)
    ts = models.DateTimeField()
    acknowledged = models.BooleanField(default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ts", "-id"]
        indexes = [
            # The history page and GET /api/alerts/: a device's events, newest first.
            models.Index(fields=["device", "-ts"], name="alerts_event_device_ts"),
            # The badge: unacknowledged firing events.
            models.Index(
                fields=["device"], condition=Q(state="firing", acknowledged=False), name="alerts_event_unacked"
            ),
        ]


class Notification(models.Model):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    STATUSES = [(PENDING, "Pending"), (SENDING, "Sending"), (DELIVERED, "Delivered"), (FAILED, "Failed")]

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="notifications")
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="notifications")
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # Set while a worker holds the row: a worker that died mid-send leaves it claimable
    # again once this lapses.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Which claim holds it, so a worker only ever sends the rows its own UPDATE took.
    claimed_by = models.CharField(max_length=32, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The worker's queue: due notifications not yet delivered or given up on.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="alerts_notification_due",
            ),
        ]


class NotificationAttempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]


class RuleSetVersion(models.Model):
    """One row whose number changes on every rule change: each process checks it (at
    most once a second) and drops its rule cache when it moved."""

    version = models.BigIntegerField(default=0)
