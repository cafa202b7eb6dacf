import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from telemetry.retention import DEFAULT_BATCH_SIZE, readings_prune


class Command(BaseCommand):
    help = (
        "Delete readings older than each device's retention (retention_days, else RETENTION_DAYS) "
        "with their rollups, and Idempotency-Key records older than IDEMPOTENCY_KEEP. "
        "Safe to run while devices send; run it daily (deploy/systemd/iotsite-prune.timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help="rows per delete, each in its own short transaction",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = readings_prune(now=timezone.now(), batch_size=batch_size)
        self.stdout.write(json.dumps(result.as_json()))
