from django.db import models

from devices.models import Device


class Attribute(models.Model):
    """One key of a device's attributes in one scope, with any JSON value.

    client: reported by the device (firmware version, IP, battery); read-only to the owner.
    shared: set by the owner and pushed to the device (interval, thresholds, calibration).
    server: the owner's own notes; the device never sees them.
    """

    CLIENT, SHARED, SERVER = "client", "shared", "server"
    SCOPES = [(CLIENT, "client"), (SHARED, "shared"), (SERVER, "server")]

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="attributes")
    scope = models.CharField(max_length=6, choices=SCOPES)
    key = models.CharField(max_length=255)
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["scope", "key"]
        constraints = [
            models.UniqueConstraint(fields=["device", "scope", "key"], name="devicecomm_attribute_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.scope}/{self.key}"


class Command(models.Model):
    """A server-to-device call (RPC): sent, answered or not, kept with its response."""

    QUEUED = "queued"  # stored; no transport has taken it yet
    SENT = "sent"  # handed to the MQTT broker for the device
    DELIVERED = "delivered"  # the device took it in an HTTP response
    SUCCEEDED = "succeeded"  # the device replied
    FAILED = "failed"  # the device replied with an error, or its token was revoked
    EXPIRED = "expired"  # no reply (no delivery, for one-way) before expires_at
    STATES = [(state, state) for state in (QUEUED, SENT, DELIVERED, SUCCEEDED, FAILED, EXPIRED)]
    # States from which a command may still reach the device or be answered.
    OPEN_STATES = (QUEUED, SENT, DELIVERED)
    FINAL_STATES = (SUCCEEDED, FAILED, EXPIRED)

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands")
    method = models.CharField(max_length=255)
    params = models.JSONField(default=dict, blank=True)
    oneway = models.BooleanField(default=False)
    persistent = models.BooleanField(default=False)
    state = models.CharField(max_length=9, choices=STATES, default=QUEUED)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # How many times a transport has handed it over (more than 1: the device may see it again).
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["device", "state", "id"], name="devicecomm_command_open"),
            models.Index(fields=["device", "-created_at"], name="devicecomm_command_history"),
        ]

    def __str__(self) -> str:
        return f"{self.method} → device {self.device_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES
