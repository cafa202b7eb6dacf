"""Every bad body is a 4xx naming the item and field, and stores nothing at all."""

import pytest

from telemetry.models import Reading, Sensor
from tests.telemetry.helpers import post

pytestmark = pytest.mark.django_db

GOOD = {"ts": "2026-01-01T00:00:00Z", "values": {"ok": 1}}


@pytest.mark.parametrize(
    "body, index, field",
    [
        ({"t": "21.5"}, None, "t"),
        ({"t": None}, None, "t"),
        ({"t": {"nested": 1}}, None, "t"),
        ({"t": [1, 2]}, None, "t"),
        ({}, None, None),
        ([], None, None),
        ([GOOD, {"t": "x"}], 1, "t"),
        ([GOOD, GOOD, 5], 2, None),
        ([GOOD, "text"], 1, None),
        ({"ts": "2026-01-01T00:00:00Z", "values": {"t": 1}, "extra": 2}, None, "extra"),
        ({"ts": "2026-01-01T00:00:00Z", "temperature": 1}, None, "ts"),
        ({"values": {}}, None, "values"),
        ({"values": [1]}, None, "values"),
        ({"values": {"t": "hot"}}, None, "values.t"),
        ({"ts": "yesterday", "values": {"t": 1}}, None, "ts"),
        ({"ts": "2026-01-01T00:00:00", "values": {"t": 1}}, None, "ts"),
        ({"ts": True, "values": {"t": 1}}, None, "ts"),
        ({"ts": -5, "values": {"t": 1}}, None, "ts"),
        ({"ts": "9999-01-01T00:00:00Z", "values": {"t": 1}}, None, "ts"),
        ([GOOD, {"ts": 1767225600, "values": {"t": 1}}], 1, "ts"),
        ({"x" * 65: 1}, None, "x" * 65),
        ({"bad\nname": 1}, None, "bad\\nname"),
        ({"bad\x00name": 1}, None, "bad\\x00name"),
        ({"   ": 1}, None, "   "),
    ],
)
def test_bad_items_are_named_and_nothing_is_stored(device_client, body, index, field):
    response = post(device_client, body)
    assert response.status_code == 400, response.json()
    answer = response.json()
    assert answer["index"] == index
    assert answer["field"] == field
    assert answer["detail"]
    assert not Reading.objects.exists()


def test_epoch_seconds_are_refused_with_a_hint(device_client):
    response = post(device_client, {"ts": 1767225600, "values": {"t": 1}})
    assert response.status_code == 400
    assert "epoch seconds" in response.json()["detail"]


def test_a_future_timestamp_names_the_margin(device_client):
    response = post(device_client, {"ts": 4102444800000, "values": {"t": 1}})
    assert response.status_code == 400
    assert "future" in response.json()["detail"]


@pytest.mark.parametrize("raw", [b"{nope", b'{"t": NaN}', b'{"t": Infinity}', b'{"t": -Infinity}', b"", b"  "])
def test_malformed_json_is_400(device_client, raw):
    response = device_client.post("/api/telemetry/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not Reading.objects.exists()


def test_a_number_past_the_float_range_is_refused(device_client):
    response = device_client.post("/api/telemetry/", b'{"t": 1e999}', content_type="application/json")
    assert response.status_code == 400
    assert not Reading.objects.exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_another_content_type_is_415(device_client, content_type):
    response = device_client.post("/api/telemetry/", b'{"value": 1}', content_type=content_type)
    assert response.status_code == 415
    assert response.json()["field"] == "Content-Type"


def test_a_batch_over_the_limit_is_413_and_stores_nothing(settings, device_client):
    settings.TELEMETRY_MAX_BATCH = 100
    batch = [{"ts": 1767225600000 + i, "values": {"a": i}} for i in range(101)]
    response = post(device_client, batch)
    assert response.status_code == 413
    assert "100" in response.json()["detail"]
    assert not Reading.objects.exists() and not Sensor.objects.exists()


def test_readings_not_items_count_toward_the_limit(settings, device_client):
    settings.TELEMETRY_MAX_BATCH = 3
    assert post(device_client, {"a": 1, "b": 2, "c": 3, "d": 4}).status_code == 413


def test_a_body_over_the_size_limit_is_413(settings, device_client):
    settings.TELEMETRY_MAX_BODY_BYTES = 1000
    response = post(device_client, [{"value": i} for i in range(200)])
    assert response.status_code == 413
    assert not Reading.objects.exists()


def test_a_bad_batch_is_atomic(device_client):
    batch = [{"ts": 1767225600000 + i, "values": {"a": i}} for i in range(500)] + [{"a": "x"}]
    assert post(device_client, batch).status_code == 400
    assert not Reading.objects.exists()


def test_a_missing_or_wrong_token_is_401(anon_client, api_client):
    assert post(anon_client, {"value": 1}).status_code == 401
    assert post(api_client, {"value": 1}).status_code == 401  # a user token is not a device token
    assert not Reading.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_bad_idempotency_key_is_400(device_client, key):
    response = post(device_client, {"value": 1}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key"
