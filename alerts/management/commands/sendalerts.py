"""The alert worker: deliver the notification outbox and check silence rules.

    python manage.py sendalerts            # run until stopped (SIGTERM/SIGINT)
    python manage.py sendalerts --once     # one pass, for cron or tests

Any number may run at once: each notification is claimed by exactly one of them.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from alerts.delivery import notifications_deliver_due
from alerts.evaluation import silence_rules_check

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Deliver alert notifications (email, webhook) with retries, and check silence rules."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass over what is due, then exit")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls when idle (default 1)")
        parser.add_argument("--batch", type=int, default=50, help="notifications claimed per round (default 50)")

    def handle(self, *args, once: bool, poll: float, batch: int, **options):
        stopping = threading.Event()
        if not once and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stopping.set())
        next_silence_check = 0.0
        sent_total = 0
        while not stopping.is_set():
            if not once:
                close_old_connections()  # a long-running process outlives its connection
            if time.monotonic() >= next_silence_check:
                try:
                    for transition in silence_rules_check():
                        logger.info("Silence rule %s is %s", transition.rule.pk, transition.state)
                except Exception:
                    logger.exception("Silence check failed")
                next_silence_check = time.monotonic() + settings.ALERTS_SILENCE_CHECK_S
            try:
                sent = notifications_deliver_due(limit=batch)
            except Exception:
                logger.exception("Delivery round failed")
                sent = 0
            sent_total += sent
            if sent < batch:
                if once:
                    break
                stopping.wait(poll)
        if once:
            self.stdout.write(f"{sent_total} notification(s) attempted")
