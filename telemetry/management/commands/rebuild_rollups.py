"""Recompute rollups and sensor counters from the raw readings (after a bulk load)."""

from django.core.management.base import BaseCommand

from telemetry.models import Sensor
from telemetry.services import rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the minute and hour rollups and sensor counters from raw readings."

    def add_arguments(self, parser):
        parser.add_argument("--device", type=int, action="append", help="only this device (repeatable)")

    def handle(self, *args, **options):
        sensors = Sensor.objects.order_by("id")
        if options["device"]:
            sensors = sensors.filter(device_id__in=options["device"])
        sensor_ids = list(sensors.values_list("id", flat=True))
        for start in range(0, len(sensor_ids), 100):  # one transaction per 100 sensors
            rollups_rebuild(sensor_ids=sensor_ids[start : start + 100])
        self.stdout.write(f"Rebuilt the rollups of {len(sensor_ids)} sensors.")
