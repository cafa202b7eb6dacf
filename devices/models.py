from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from devices.device_types import GENERIC


class Device(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(max_length=100)
    type = models.SlugField(max_length=50, default=GENERIC)
    description = models.TextField(blank=True, default="")
    config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Days of readings to keep (prune_readings); null follows the RETENTION_DAYS setting.
    retention_days = models.PositiveIntegerField(null=True, blank=True)

    # Never the token itself: an HMAC for lookup (unique: the device-auth query) and
    # a copy encrypted under SECRET_KEY so the owner can show the QR again.
    token_digest = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    token_ciphertext = models.TextField(blank=True, default="", editable=False)
    token_hint = models.CharField(max_length=16, blank=True, default="", editable=False)
    token_issued_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # Names are unique per owner regardless of case; serves the clash check too.
            models.UniqueConstraint("owner", Lower("name"), name="devices_device_owner_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_token(self) -> bool:
        return self.token_digest is not None
