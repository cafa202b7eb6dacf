"""Attributes and commands over MQTT: what devices publish besides telemetry
(docs/device-communication.md)."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devicecomm.mqtt import DeviceCommWorker, WorkerStopped


class Command(BaseCommand):
    help = "Handle device attributes, command replies and client-side RPC over MQTT; distinct --client-id each."

    def add_arguments(self, parser):
        parser.add_argument(
            "--client-id",
            default=f"{settings.MQTT_CLIENT_ID}-devicecomm",
            help="stable and distinct per worker: its broker session keeps unacknowledged messages",
        )

    def handle(self, *args, **options):
        if not settings.MQTT_HOST:
            raise CommandError("Set MQTT_HOST (and MQTT_PORT, MQTT_USERNAME, MQTT_PASSWORD) to the broker.")
        worker = DeviceCommWorker(client_id=options["client_id"])
        previous = {
            signum: signal.signal(signum, lambda *_: worker.stop()) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            worker.run()
        except WorkerStopped as error:
            raise CommandError(f"MQTT: {error}") from None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
