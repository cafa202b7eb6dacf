"""Subscribe to device telemetry at the MQTT broker and store it (docs/mqtt.md)."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telemetry.mqtt import IngestStopped, TelemetryIngest


class Command(BaseCommand):
    help = "Store device telemetry published over MQTT; run several with distinct --client-id."

    def add_arguments(self, parser):
        parser.add_argument(
            "--client-id",
            default=settings.MQTT_CLIENT_ID,
            help="stable and distinct per worker: its broker session keeps unacknowledged messages",
        )
        parser.add_argument(
            "--batch", type=int, default=settings.MQTT_BATCH_MESSAGES, help="at most this many messages per transaction"
        )

    def handle(self, *args, **options):
        if not settings.MQTT_HOST:
            raise CommandError("Set MQTT_HOST (and MQTT_PORT, MQTT_USERNAME, MQTT_PASSWORD) to the broker.")
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1.")
        ingest = TelemetryIngest(client_id=options["client_id"], batch_messages=options["batch"])
        previous = {
            signum: signal.signal(signum, lambda *_: ingest.stop()) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            ingest.run()
        except IngestStopped as error:
            raise CommandError(f"MQTT: {error}") from None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
