"""Read a gauge or display image once and print the reading as one JSON line."""

import json

from django.core.management.base import BaseCommand, CommandError

from devices.models import Device
from edge_reader.calibration import CalibrationError, load_calibration
from edge_reader.readers import read_image
from edge_reader.result import ReadError
from telemetry.images import device_calibration
from telemetry.payloads import PayloadError


class Command(BaseCommand):
    help = "Read IMAGE with a calibration file or a device's calibration; prints {value, angle, confidence}."

    def add_arguments(self, parser):
        parser.add_argument("image")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--calibration", help="calibration JSON file")
        source.add_argument("--device", type=int, help="use this device's config.calibration")

    def handle(self, *args, **options):
        try:
            calibration = self._calibration(options)
            reading = read_image(options["image"], calibration)
        except (ReadError, CalibrationError, PayloadError, OSError) as error:
            self.stdout.write(json.dumps({"error": str(error)}))
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(json.dumps(reading.as_json()))

    def _calibration(self, options) -> dict:
        if options["calibration"]:
            return load_calibration(options["calibration"])
        device = Device.objects.filter(pk=options["device"]).first()
        if device is None:
            raise CalibrationError(f"no device {options['device']}")
        return device_calibration(device)
