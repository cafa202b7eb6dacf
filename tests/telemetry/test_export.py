import csv
import io
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from devices.services import device_create
from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest
from tests.telemetry.helpers import post

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HEADER = ["device_id", "device_name", "sensor", "timestamp", "value"]


def export(client, **params) -> list[list[str]]:
    response = client.get("/api/export.csv", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_round_trips_what_was_ingested(api_client, device_client, device):
    rng = random.Random(7)
    sent = [
        {"ts": (T0 + timedelta(milliseconds=1500 * i)).isoformat(), "values": {"temp": rng.uniform(-50, 50), "rh": i}}
        for i in range(300)
    ]
    sent.append({"ts": "2026-03-01T00:00:00.000001Z", "values": {"temp": 1e-300}})
    assert post(device_client, sent).status_code == 201
    rows = export(api_client)
    assert rows[0] == HEADER
    expected = sorted(
        (key, datetime.fromisoformat(item["ts"]), float(value))
        for item in sent
        for key, value in item["values"].items()
    )
    got = sorted((sensor, datetime.fromisoformat(ts), float(value)) for _, _, sensor, ts, value in rows[1:])
    assert got == expected
    assert {(row[0], row[1]) for row in rows[1:]} == {(str(device.pk), "Boiler")}
    assert all(row[3].endswith("Z") and "T" in row[3] for row in rows[1:])


def test_another_users_data_never_appears(api_client, other_client, device, other_user):
    theirs, _ = device_create(owner=other_user, name="Secret", type="generic")
    readings_ingest(device=theirs, readings=[ParsedReading("x", T0, 1.0)], received_at=timezone.now())
    readings_ingest(device=device, readings=[ParsedReading("x", T0, 2.0)], received_at=timezone.now())
    assert [row[1] for row in export(api_client)[1:]] == ["Boiler"]
    assert [row[1] for row in export(other_client)[1:]] == ["Secret"]


def test_filters_narrow_the_export(api_client, user, device):
    pump, _ = device_create(owner=user, name="Pump", type="generic")
    for dev in (device, pump):
        readings_ingest(
            device=dev,
            readings=[ParsedReading(key, T0 + timedelta(hours=h), h) for key in ("a", "b") for h in range(4)],
            received_at=timezone.now(),
        )
    assert len(export(api_client)) == 1 + 16
    assert {row[1] for row in export(api_client, device=pump.pk)[1:]} == {"Pump"}
    assert {row[2] for row in export(api_client, sensor="b")[1:]} == {"b"}
    window = export(api_client, device=device.pk, sensor="a", start="2026-03-01T01:00:00Z", end="2026-03-01T03:00:00Z")
    assert [row[3] for row in window[1:]] == ["2026-03-01T01:00:00.000000Z", "2026-03-01T02:00:00.000000Z"]


def test_names_with_commas_quotes_and_newlines_stay_one_field(api_client, user):
    odd, _ = device_create(owner=user, name='Tank "A", north\nwall', type="generic")
    readings_ingest(device=odd, readings=[ParsedReading("level,%", T0, 3.5)], received_at=timezone.now())
    rows = export(api_client)
    assert rows[1][1:3] == ['Tank "A", north\nwall', "level,%"]


def test_an_empty_account_exports_just_the_header(api_client):
    assert export(api_client) == [HEADER]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"device": "abc"}, "device"),
        ({"start": "soon"}, "start"),
        ({"end": "2026-02-30T00:00:00Z"}, "end"),
        ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "start"),
    ],
)
def test_bad_filters_are_400(api_client, params, field):
    response = api_client.get("/api/export.csv", params)
    assert response.status_code == 400
    assert field in response.json()


def test_another_users_device_filter_is_404(other_client, device):
    assert other_client.get("/api/export.csv", {"device": device.pk}).status_code == 404


def test_the_export_needs_a_user(anon_client, device_client):
    assert anon_client.get("/api/export.csv").status_code == 401
    assert device_client.get("/api/export.csv").status_code == 401


def run_in_own_thread(coroutine_function):
    """An event loop of its own: browser tests leave one marked running in this thread."""
    import asyncio
    import threading

    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(value=asyncio.run(coroutine_function())))
    thread.start()
    thread.join()
    return outcome["value"]


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_export_is_streamed_block_by_block(user, device):
    from asgiref.sync import sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    readings_ingest(
        device=device,
        readings=[ParsedReading("t", T0 + timedelta(seconds=s), s) for s in range(500)],
        received_at=timezone.now(),
    )

    async def export_over_asgi():
        client = AsyncClient()
        await client.aforce_login(user)
        response = await client.get("/api/export.csv")
        body = b"".join([block async for block in response.streaming_content])
        await sync_to_async(connections.close_all)()  # the connection of the thread that served it
        return response.is_async, body

    is_async, body = run_in_own_thread(export_over_asgi)
    assert is_async  # Django would otherwise read a sync iterator whole into memory first
    lines = body.decode().splitlines()
    assert lines[0] == ",".join(HEADER)
    assert len(lines) == 501
