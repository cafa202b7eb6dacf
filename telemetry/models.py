"""Readings as (sensor, ts, value) rows, with rollups kept up at ingest.

Readings for one sensor and one instant are unique: the first stored value stands and
later copies are ignored, so a device that retries never doubles or alters data and
the rollups stay exact (they only ever add rows that were really inserted).
"""

from django.db import models

from devices.models import Device


class Sensor(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="sensors")
    key = models.CharField(max_length=64)
    unit = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept up at ingest so the sensor list never counts millions of rows.
    reading_count = models.BigIntegerField(default=0)
    last_ts = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["device_id", "key"]
        constraints = [
            # Ingest looks sensors up by (device, key) and creates missing ones.
            models.UniqueConstraint("device", "key", name="telemetry_sensor_device_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.key}"


class Reading(models.Model):
    id = models.BigAutoField(primary_key=True)
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="readings", db_index=False)
    ts = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        constraints = [
            # Serves every range query (sensor = ? AND ts BETWEEN ...) and the export,
            # and is the arbiter of the first-value-stands rule at ingest.
            models.UniqueConstraint("sensor", "ts", name="telemetry_reading_sensor_ts_unique"),
        ]


class RollupBase(models.Model):
    """min/max/sum/count of one sensor over one bucket: enough for avg at any coarser level."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, db_index=False, related_name="+")
    bucket = models.DateTimeField()
    min = models.FloatField()
    max = models.FloatField()
    sum = models.FloatField()
    count = models.BigIntegerField()

    class Meta:
        abstract = True


class MinuteRollup(RollupBase):
    id = models.BigAutoField(primary_key=True)

    class Meta:
        constraints = [
            # The ingest upsert's conflict target and the bucketed query's range scan.
            models.UniqueConstraint("sensor", "bucket", name="telemetry_minuterollup_sensor_bucket_unique"),
        ]


class HourRollup(RollupBase):
    id = models.BigAutoField(primary_key=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("sensor", "bucket", name="telemetry_hourrollup_sensor_bucket_unique"),
        ]


class IdempotencyRecord(models.Model):
    """The answer given to a batch sent with an Idempotency-Key, replayed to its retries."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, db_index=False, related_name="+")
    key = models.CharField(max_length=255)
    request_sha256 = models.CharField(max_length=64)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The replay lookup, and what makes two concurrent retries store once.
            models.UniqueConstraint("device", "key", name="telemetry_idempotency_device_key_unique"),
        ]
        indexes = [
            # Pruning of old records.
            models.Index(fields=["created_at"], name="telemetry_idempotency_created"),
        ]
