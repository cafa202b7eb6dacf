from django.conf import settings
from django.db import models

from devices.models import Device


class ThingSpeakChannel(models.Model):
    """The entry counter ThingSpeak's update API answers with, one per device."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="thingspeak_channel")
    last_entry_id = models.PositiveBigIntegerField(default=0)


class BridgeBroker(models.Model):
    """An owner's MQTT broker where Home Assistant discovery is published (`mqtt_bridge`)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bridge_brokers")
    name = models.CharField(max_length=100)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=1883)
    tls = models.BooleanField(default=False)
    username = models.CharField(max_length=255, blank=True, default="")
    # Encrypted like device tokens (devices.tokens): a database dump alone does not reveal it.
    password_ciphertext = models.TextField(blank=True, default="", editable=False)
    discovery_prefix = models.CharField(max_length=100, default="homeassistant")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Written by the bridge worker: shown to the owner so a wrong password is visible.
    status = models.CharField(max_length=200, blank=True, default="")
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_password(self) -> bool:
        return bool(self.password_ciphertext)


class BridgedDevice(models.Model):
    """A device discovered on a broker, by the first of its `device.identifiers`."""

    broker = models.ForeignKey(BridgeBroker, on_delete=models.CASCADE, related_name="bridged_devices")
    identifier = models.CharField(max_length=255)
    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="bridged_from")
    # The name the bridge gave the device: renamed from a later, better discovery only
    # while the owner has not renamed it.
    discovered_name = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broker", "identifier"], name="protocols_bridged_device_unique"),
        ]


class BridgedEntity(models.Model):
    """One discovered sensor or binary_sensor: where its state is published and how to read it."""

    broker = models.ForeignKey(BridgeBroker, on_delete=models.CASCADE, related_name="entities")
    bridged_device = models.ForeignKey(BridgedDevice, on_delete=models.CASCADE, related_name="entities")
    discovery_topic = models.CharField(max_length=512)
    component = models.CharField(max_length=32)
    sensor_key = models.CharField(max_length=64)
    state_topic = models.CharField(max_length=512)
    value_template = models.TextField(blank=True, default="")
    payload_on = models.CharField(max_length=255, default="ON")
    payload_off = models.CharField(max_length=255, default="OFF")
    unit = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broker", "discovery_topic"], name="protocols_bridged_entity_unique"),
        ]
