"""Weekly partitions of readings and minute rollups on PostgreSQL; SQLite keeps plain tables."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from devices.services import device_create
from telemetry import storage
from telemetry.models import HourRollup, MinuteRollup, Reading, Sensor
from telemetry.payloads import ParsedReading
from telemetry.retention import readings_prune
from telemetry.services import readings_ingest, rollups_rebuild
from telemetry.storage.partitions import partitions_create, partitions_of, week_start

NOW = datetime(2026, 6, 17, 12, 34, 56, tzinfo=UTC)  # a Wednesday

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")


def ingest(device, times, sensor="value", first=0.0):
    readings = [ParsedReading(sensor, ts, first + n) for n, ts in enumerate(times)]
    readings_ingest(device=device, readings=readings, received_at=NOW)


def hourly(start, hours):
    return [start + timedelta(hours=n) for n in range(hours)]


def table_rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")
        return cursor.fetchall()


def rollups(sensor_id):
    return [
        sorted(model.objects.filter(sensor_id=sensor_id).values_list("bucket", "min", "max", "sum", "count"))
        for model in (MinuteRollup, HourRollup)
    ]


def where_rows_are(table, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1 ORDER BY 1")
        return dict(cursor.fetchall())


@pytest.mark.django_db
def test_sqlite_keeps_a_plain_table():
    if connection.vendor == "postgresql":
        assert storage.readings_partitioned()
    else:
        assert not storage.readings_partitioned()


@postgresql_only
@pytest.mark.django_db
class TestWeeklyPartitions:
    def test_a_week_starts_on_monday_at_midnight_utc(self):
        assert week_start(NOW) == datetime(2026, 6, 15, tzinfo=UTC)

    def test_readings_go_to_their_week_and_the_first_value_still_stands(self, device):
        partitions_create(start=NOW - timedelta(days=7), end=NOW)
        ingest(device, [NOW - timedelta(days=7), NOW])
        ingest(device, [NOW - timedelta(days=7), NOW], first=100.0)
        assert where_rows_are("telemetry_reading", "ts") == {
            "telemetry_reading_p20260608": 1,
            "telemetry_reading_p20260615": 1,
        }
        assert sorted(Reading.objects.values_list("value", flat=True)) == [0.0, 1.0]
        assert Sensor.objects.get(device=device).reading_count == 2

    def test_a_week_without_a_partition_waits_in_the_default_one_and_moves_in_when_created(self, device):
        ingest(device, hourly(NOW - timedelta(days=400), 30))
        before = table_rows("telemetry_reading"), rollups(Sensor.objects.get().pk)
        assert where_rows_are("telemetry_reading", "ts") == {"telemetry_reading_default": 30}
        created = storage.partitions_ensure(now=NOW)
        assert "telemetry_reading_p20250512" in created
        assert "telemetry_minuterollup_p20250512" in created
        assert "telemetry_reading_default" not in where_rows_are("telemetry_reading", "ts")
        assert (table_rows("telemetry_reading"), rollups(Sensor.objects.get().pk)) == before
        # Ahead of now: this week and the next four.
        starts = [p.start for p in partitions_of("telemetry_reading")]
        assert week_start(NOW) + 4 * storage.WEEK in starts

    def test_retention_drops_whole_weeks_and_deletes_only_the_edges(self, device, settings):
        settings.RETENTION_DAYS = 10
        partitions_create(start=NOW - timedelta(days=30), end=NOW)
        ingest(device, hourly(NOW - timedelta(days=30), 30 * 24))
        sensor = Sensor.objects.get()
        result = readings_prune(now=NOW)
        cutoff = datetime(2026, 6, 7, 12, tzinfo=UTC)
        assert not Reading.objects.filter(ts__lt=cutoff).exists()
        assert Reading.objects.count() == Reading.objects.filter(ts__gte=cutoff).count() == 10 * 24
        assert result.readings == 20 * 24
        # Weeks of 18 May, 25 May and 1 June went whole; 7 June's half in batches.
        names = {p.name for p in partitions_of("telemetry_reading")}
        assert "telemetry_reading_p20260525" not in names and "telemetry_reading_p20260601" in names
        assert "telemetry_minuterollup_p20260525" not in {p.name for p in partitions_of("telemetry_minuterollup")}
        sensor.refresh_from_db()
        assert sensor.reading_count == 10 * 24
        pruned = rollups(sensor.pk)
        rollups_rebuild(sensor_ids=[sensor.pk])
        assert rollups(sensor.pk) == pruned

    def test_no_week_is_dropped_while_one_device_keeps_everything(self, device, user, settings):
        settings.RETENTION_DAYS = 0
        device.retention_days = 3
        device.save()
        keeper, _token = device_create(owner=user, name="Keeper", type="generic")
        partitions_create(start=NOW - timedelta(days=30), end=NOW)
        ingest(device, hourly(NOW - timedelta(days=20), 24))
        ingest(keeper, hourly(NOW - timedelta(days=20), 24))
        weeks = partitions_of("telemetry_reading")
        result = readings_prune(now=NOW)
        assert result.readings == 24
        assert set(weeks) <= set(partitions_of("telemetry_reading"))
        assert Reading.objects.filter(sensor__device=keeper).count() == 24

    def test_a_sensor_whose_readings_all_went_with_a_week_loses_its_latest_value(self, device, settings):
        settings.RETENTION_DAYS = 7
        partitions_create(start=NOW - timedelta(days=30), end=NOW)
        ingest(device, [NOW - timedelta(days=28)])
        readings_prune(now=NOW)
        sensor = Sensor.objects.get()
        assert (sensor.reading_count, sensor.last_ts, sensor.last_value) == (0, None, None)

    def test_a_week_that_cannot_be_locked_in_time_goes_in_batches_instead(self, device, settings, monkeypatch):
        from django.db import OperationalError

        settings.RETENTION_DAYS = 7
        partitions_create(start=NOW - timedelta(days=30), end=NOW)
        ingest(device, hourly(NOW - timedelta(days=20), 24))

        def busy(week):
            raise OperationalError("canceling statement due to lock timeout")

        monkeypatch.setattr(storage, "week_drop", busy)
        assert readings_prune(now=NOW).readings == 24
        assert Reading.objects.count() == 0
        assert Sensor.objects.get().reading_count == 0

    def test_the_admin_estimate_adds_up_the_partitions(self, device):
        ingest(device, hourly(NOW, 5))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE telemetry_reading")
        assert storage.readings_estimated_count() == 5


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_a_populated_database_without_losing_a_row(user):
    call_command("migrate", "telemetry", "0002", verbosity=0)
    try:
        assert not storage.readings_partitioned()
        devices = [device_create(owner=user, name=f"D{n}", type="generic")[0] for n in range(3)]
        now = datetime.now(UTC)
        for n, device in enumerate(devices):
            # This year, three years back (the default partition) and a minute apart.
            ingest(device, hourly(now - timedelta(days=200), 24 * 20) + [now - timedelta(days=4000)], first=n)
            ingest(device, [now - timedelta(seconds=s) for s in range(120)], sensor="fast")
        readings, minutes = table_rows("telemetry_reading"), table_rows("telemetry_minuterollup")
        sensors = list(Sensor.objects.order_by("pk").values_list("pk", "reading_count", "last_ts", "last_value"))
        call_command("migrate", "telemetry", "0003", verbosity=0)
        assert storage.readings_partitioned()
        assert table_rows("telemetry_reading") == readings
        assert table_rows("telemetry_minuterollup") == minutes
        assert len(readings) == 3 * (24 * 20 + 1 + 120)
        assert where_rows_are("telemetry_reading", "ts")["telemetry_reading_default"] == 3
        # Ids go on from where they were; the unique key still rejects a copy.
        ingest(devices[0], [now + timedelta(hours=1), now - timedelta(seconds=1)], sensor="fast", first=-1)
        new = Reading.objects.order_by("-id").first()
        assert new is not None and new.id == max(row[0] for row in readings) + 1 and new.value == -1
        assert Reading.objects.count() == len(readings) + 1
        sensors_after = list(Sensor.objects.order_by("pk").values_list("pk", "reading_count", "last_ts", "last_value"))
        assert sensors_after[0][1] == sensors[0][1]
    finally:
        call_command("migrate", "telemetry", verbosity=0)
