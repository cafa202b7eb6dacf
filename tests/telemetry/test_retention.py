from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from telemetry.models import HourRollup, IdempotencyRecord, MinuteRollup, Reading, Sensor
from telemetry.payloads import ParsedReading
from telemetry.retention import readings_prune, retention_cutoff, sensor_readings_prune
from telemetry.services import readings_ingest, rollups_rebuild

NOW = datetime(2026, 6, 15, 12, 34, 56, tzinfo=UTC)


def ingest(device, *times, sensor="value"):
    readings = [ParsedReading(sensor, ts, float(n)) for n, ts in enumerate(times)]
    readings_ingest(device=device, readings=readings, received_at=NOW)


def rollup_snapshot(sensor_id):
    return {
        model.__name__: sorted(
            model.objects.filter(sensor_id=sensor_id).values_list("bucket", "min", "max", "sum", "count")
        )
        for model in (MinuteRollup, HourRollup)
    }


def test_a_cutoff_is_the_start_of_the_hour_the_retention_days_ago():
    assert retention_cutoff(now=NOW, days=30) == datetime(2026, 5, 16, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
class TestPruneReadings:
    def test_readings_older_than_the_device_retention_go_and_newer_stay(self, device):
        device.retention_days = 2
        device.save()
        ingest(device, NOW - timedelta(days=3), NOW - timedelta(days=2, hours=1), NOW - timedelta(hours=1))
        result = readings_prune(now=NOW)
        assert result.readings == 2
        assert list(Reading.objects.values_list("ts", flat=True)) == [NOW - timedelta(hours=1)]

    def test_rollups_stay_equal_to_a_rebuild_from_the_remaining_readings(self, device):
        device.retention_days = 1
        device.save()
        start = NOW - timedelta(days=1, hours=3)
        ingest(device, *(start + timedelta(minutes=7 * n) for n in range(60)))
        readings_prune(now=NOW, batch_size=7)
        sensor = Sensor.objects.get(device=device)
        pruned = rollup_snapshot(sensor.pk)
        rollups_rebuild(sensor_ids=[sensor.pk])
        assert pruned == rollup_snapshot(sensor.pk)
        assert MinuteRollup.objects.filter(bucket__lt=retention_cutoff(now=NOW, days=1)).count() == 0

    def test_the_sensor_counter_follows_what_was_deleted(self, device):
        device.retention_days = 1
        device.save()
        ingest(device, *(NOW - timedelta(days=2, minutes=n) for n in range(10)), NOW - timedelta(minutes=5))
        readings_prune(now=NOW, batch_size=3)
        sensor = Sensor.objects.get(device=device)
        assert sensor.reading_count == 1 == Reading.objects.count()
        assert sensor.last_ts == NOW - timedelta(minutes=5)

    def test_a_sensor_left_with_no_reading_loses_its_latest_value(self, device):
        device.retention_days = 1
        device.save()
        ingest(device, NOW - timedelta(days=5))
        readings_prune(now=NOW)
        sensor = Sensor.objects.get(device=device)
        assert (sensor.reading_count, sensor.last_ts, sensor.last_value) == (0, None, None)

    def test_devices_without_their_own_retention_follow_the_global_setting(self, device, settings):
        settings.RETENTION_DAYS = 10
        ingest(device, NOW - timedelta(days=11), NOW - timedelta(days=9))
        assert readings_prune(now=NOW).readings == 1

    def test_nothing_is_deleted_when_no_retention_is_set(self, device, settings):
        settings.RETENTION_DAYS = 0
        ingest(device, NOW - timedelta(days=3650))
        assert readings_prune(now=NOW).readings == 0
        assert Reading.objects.count() == 1

    def test_a_device_retention_overrides_the_global_one_either_way(self, user, device, settings):
        from devices.services import device_create

        settings.RETENTION_DAYS = 5
        keeper, _token = device_create(owner=user, name="Keeper", type="generic")
        keeper.retention_days = 100
        keeper.save()
        ingest(device, NOW - timedelta(days=50))
        ingest(keeper, NOW - timedelta(days=50))
        readings_prune(now=NOW)
        assert list(Reading.objects.values_list("sensor__device_id", flat=True)) == [keeper.pk]

    def test_a_cutoff_inside_an_hour_is_refused(self, device):
        ingest(device, NOW)
        sensor = Sensor.objects.get(device=device)
        with pytest.raises(ValueError, match="start of an hour"):
            sensor_readings_prune(sensor_id=sensor.pk, cutoff=NOW)

    def test_idempotency_records_older_than_a_day_go(self, device):
        old = IdempotencyRecord.objects.create(device=device, key="old", request_sha256="a" * 64)
        IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
        IdempotencyRecord.objects.create(device=device, key="new", request_sha256="b" * 64)
        assert readings_prune(now=timezone.now()).idempotency_records == 1
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]

    def test_the_command_prints_one_json_line_of_what_it_deleted(self, device, capsys):
        device.retention_days = 1
        device.save()
        ingest(device, timezone.now() - timedelta(days=3))
        call_command("prune_readings", "--batch-size", "2")
        assert capsys.readouterr().out.strip() == (
            '{"readings": 1, "minute_rollups": 1, "hour_rollups": 1, "idempotency_records": 0}'
        )

    def test_the_command_refuses_a_batch_size_below_one(self):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="batch-size"):
            call_command("prune_readings", "--batch-size", "0")


@pytest.mark.django_db
class TestRetentionSetting:
    def test_the_owner_sets_a_devices_retention_through_the_api(self, api_client, device):
        response = api_client.patch(f"/api/devices/{device.pk}/", {"retention_days": 30}, format="json")
        assert response.status_code == 200
        assert response.json()["retention_days"] == 30
        device.refresh_from_db()
        assert device.retention_days == 30

    def test_a_device_may_be_created_with_its_retention(self, api_client):
        response = api_client.post("/api/devices/", {"name": "Short", "retention_days": 7}, format="json")
        assert response.status_code == 201
        assert response.json()["retention_days"] == 7

    def test_null_retention_follows_the_global_setting(self, api_client, device):
        response = api_client.patch(f"/api/devices/{device.pk}/", {"retention_days": None}, format="json")
        assert response.json()["retention_days"] is None

    @pytest.mark.parametrize("bad", [0, -1, 36_501, "soon", 1.5])
    def test_a_bad_retention_is_a_400_naming_the_field(self, api_client, device, bad):
        response = api_client.patch(f"/api/devices/{device.pk}/", {"retention_days": bad}, format="json")
        assert response.status_code == 400
        assert "retention_days" in response.json()
