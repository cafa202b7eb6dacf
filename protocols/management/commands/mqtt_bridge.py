"""Bridge Home Assistant MQTT discovery from the brokers owners connected (docs/protocols.md)."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from protocols.bridge.worker import Bridge


class Command(BaseCommand):
    help = "Create devices from Home Assistant MQTT discovery on the owners' brokers and store their states."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reload-interval",
            type=float,
            default=settings.BRIDGE_RELOAD_INTERVAL.total_seconds(),
            help="seconds between reads of the broker list",
        )

    def handle(self, *args, **options):
        if options["reload_interval"] <= 0:
            raise CommandError("--reload-interval must be positive.")
        bridge = Bridge(reload_interval=options["reload_interval"])
        previous = {
            signum: signal.signal(signum, lambda *_: bridge.stop()) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            bridge.run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
