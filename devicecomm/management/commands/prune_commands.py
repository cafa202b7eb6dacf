"""Delete finished commands past COMMAND_HISTORY_DAYS (docs/device-communication.md)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devicecomm.services import commands_prune


class Command(BaseCommand):
    help = "Delete commands that finished more than COMMAND_HISTORY_DAYS ago (0 keeps all)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.COMMAND_HISTORY_DAYS)

    def handle(self, *args, **options):
        if options["days"] < 0:
            raise CommandError("--days must be 0 (keep all) or more.")
        if options["days"] == 0:
            self.stdout.write("Keeping every command (COMMAND_HISTORY_DAYS=0).")
            return
        deleted = commands_prune(older_than=timedelta(days=options["days"]))
        self.stdout.write(f"Deleted {deleted} finished commands older than {options['days']} days.")
