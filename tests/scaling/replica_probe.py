"""Run by test_replicas.py in a process of its own, with DATABASE_URL on a primary and
DATABASE_REPLICA_URLS on its streaming standby (both made by the test): drives the
history API, the export and a dashboard page through Django's test client and prints,
as one JSON line, which database answered each step.

argv: the standby's data directory and a command that stops it (run by the probe at
the step where the replica goes away).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iotsite.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from bench.pgnodes import Node, wait_caught_up  # noqa: E402
from iotsite import replicas  # noqa: E402

REPLICA = "replica0"


class Served:
    """Which aliases ran a SELECT on devices, sensors, readings or rollups since the last take."""

    def __init__(self) -> None:
        self.aliases: set[str] = set()
        for alias in ("default", REPLICA):
            connections[alias].execute_wrappers.append(self._wrapper(alias))

    def _wrapper(self, alias):
        def wrapper(execute, sql, params, many, context):
            reads_data = "telemetry_" in sql or "devices_device" in sql
            if reads_data and sql.lstrip().upper().startswith(("SELECT", "WITH")):
                self.aliases.add(alias)
            return execute(sql, params, many, context)

        return wrapper

    def take(self) -> list[str]:
        taken, self.aliases = sorted(self.aliases), set()
        return taken


def main() -> None:
    primary_node = Node("primary", Path(sys.argv[1]), int(os.environ["PRIMARY_PORT"]))
    standby_node = Node("standby", Path(sys.argv[1]), int(os.environ["STANDBY_PORT"]))
    database = settings.DATABASES["default"]["NAME"]
    call_command("migrate", verbosity=0)
    from devices.services import device_create
    from telemetry.payloads import ParsedReading
    from telemetry.services import readings_ingest

    user = django.contrib.auth.get_user_model().objects.create_user(username="alice", password="correct-horse-1")
    device, _token = device_create(owner=user, name="Boiler", type="generic")
    now = datetime.now(UTC).replace(microsecond=0)
    readings_ingest(
        device=device,
        readings=[ParsedReading("t", now - timedelta(minutes=n), float(n)) for n in range(1, 30)],
        received_at=now,
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    page = Client()
    page.force_login(user)
    served = Served()
    series_url = f"/api/devices/{device.pk}/readings/?sensor=t&start={(now - timedelta(hours=1)).isoformat()}"
    series_url = series_url.replace("+", "%2B") + "&end=" + (now + timedelta(minutes=5)).isoformat().replace("+", "%2B")
    results: dict[str, object] = {}

    def series_points() -> int:
        response = api.get(series_url)
        assert response.status_code == 200, response.content
        return len(response.json()["points"])

    def export_rows() -> int:
        response = api.get("/api/export.csv")
        assert response.status_code == 200
        rows = len(b"".join(response.streaming_content).splitlines()) - 1
        results.setdefault("export_from", []).append(served.take())  # type: ignore[union-attr]
        return rows

    wait_caught_up(primary_node, standby_node)
    # 1. Caught up: history, export and the dashboard read from the replica.
    results["caught_up_points"] = series_points()
    results["caught_up_series_from"] = served.take()
    results["dashboard_status"] = page.get("/").status_code
    results["dashboard_from"] = served.take()
    # 2. Replay paused, a reading added on the primary: within the lag bound the replica
    #    still answers (without it); past the bound, the primary (with it).
    standby_node.sql("SELECT pg_wal_replay_pause()", database=database)
    readings_ingest(device=device, readings=[ParsedReading("t", now, 0.0)], received_at=now)
    settings.DATABASE_REPLICA_MAX_LAG = timedelta(seconds=30)
    replicas.replica_checks_forget()
    results["paused_within_bound_points"] = series_points()
    results["paused_within_bound_from"] = served.take()
    results["paused_export_rows"] = export_rows()
    settings.DATABASE_REPLICA_MAX_LAG = timedelta(seconds=1)
    time.sleep(1.5)
    replicas.replica_checks_forget()
    results["lagging_points"] = series_points()
    results["lagging_from"] = served.take()
    results["lagging_export_rows"] = export_rows()
    standby_node.sql("SELECT pg_wal_replay_resume()", database=database)
    wait_caught_up(primary_node, standby_node)
    settings.DATABASE_REPLICA_MAX_LAG = timedelta(seconds=5)
    replicas.replica_checks_forget()
    results["resumed_from"] = (series_points(), served.take())[1]
    # 3. A client that has just written reads from the primary.
    response = api.patch(f"/api/devices/{device.pk}/", {"name": "Boiler 2"}, format="json")
    results["write_sets_cookie"] = replicas.PRIMARY_READS_COOKIE in response.cookies
    api.cookies[replicas.PRIMARY_READS_COOKIE] = "1"
    results["after_write_from"] = (series_points(), served.take())[1]
    del api.cookies[replicas.PRIMARY_READS_COOKIE]
    # 4. The replica goes away while still counted usable (checked a moment ago): the
    #    view runs again on the primary; the next check finds it gone.
    settings.DATABASE_REPLICA_CHECK_EVERY = timedelta(seconds=60)
    replicas.replica_checks_forget()
    series_points()
    served.take()
    subprocess.run(sys.argv[2:], check=True, capture_output=True)
    started = time.monotonic()
    results["replica_down_points"] = series_points()
    results["replica_down_from"] = served.take()
    results["replica_down_seconds"] = round(time.monotonic() - started, 2)
    settings.DATABASE_REPLICA_CHECK_EVERY = timedelta(seconds=0)
    started = time.monotonic()
    results["unreachable_points"] = series_points()
    results["unreachable_from"] = served.take()
    results["unreachable_seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
