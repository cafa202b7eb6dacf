"""POST /api/v1/{device_token}/telemetry takes ThingsBoard's payloads and answers as it does."""

import logging

import orjson
import pytest

from devices.services import device_token_revoke, device_token_rotate
from tests.telemetry.helpers import stored

pytestmark = pytest.mark.django_db


def post(client, token, body, content_type="application/json"):
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.generic("POST", f"/api/v1/{token}/telemetry", raw, content_type=content_type)


def test_a_flat_object_is_stored_and_answered_with_an_empty_200(anon_client, device, device_token):
    response = post(anon_client, device_token, {"temperature": 42, "humidity": 73.5, "active": False})

    assert response.status_code == 200
    assert response.content == b""
    assert sorted((key, value) for key, _, value in stored(device)) == [
        ("active", 0.0),
        ("humidity", 73.5),
        ("temperature", 42.0),
    ]


def test_ts_and_values_use_the_devices_time_in_milliseconds(anon_client, device, device_token):
    response = post(anon_client, device_token, {"ts": 1451649600512, "values": {"key1": 1, "key2": 2}})

    assert response.status_code == 200
    assert stored(device) == [
        ("key1", "2016-01-01T12:00:00.512000+00:00", 1.0),
        ("key2", "2016-01-01T12:00:00.512000+00:00", 2.0),
    ]


def test_an_array_of_either_form_is_one_batch(anon_client, device, device_token):
    body = [{"ts": 1451649600512, "values": {"t": 1}}, {"ts": 1451649601512, "values": {"t": 2}}, {"h": 3}]

    assert post(anon_client, device_token, body).status_code == 200
    assert [(key, value) for key, _, value in stored(device)] == [("h", 3.0), ("t", 1.0), ("t", 2.0)]


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/json; charset=utf-8"])
def test_firmware_that_does_not_label_its_json_is_understood(anon_client, device, device_token, content_type):
    assert post(anon_client, device_token, {"value": 1}, content_type=content_type).status_code == 200
    assert len(stored(device)) == 1


def test_malformed_json_is_a_400(anon_client, device, device_token):
    response = post(anon_client, device_token, b'{"temperature": ')

    assert response.status_code == 400
    assert "Malformed JSON" in response.json()["detail"]
    assert stored(device) == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"temperature": "warm"}, "temperature"),
        ({"ts": 1451649600, "values": {"t": 1}}, "ts"),
        ([{"t": 1}, {"t": None}], "t"),
    ],
)
def test_a_value_we_cannot_store_is_a_400_naming_the_field(anon_client, device, device_token, body, field):
    response = post(anon_client, device_token, body)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert stored(device) == []


def test_an_empty_body_is_a_400(anon_client, device_token):
    assert post(anon_client, device_token, b"").status_code == 400


def test_a_batch_over_the_limit_is_a_413(anon_client, device_token, settings):
    settings.TELEMETRY_MAX_BATCH = 2
    assert post(anon_client, device_token, [{"a": 1}, {"b": 2}, {"c": 3}]).status_code == 413


@pytest.mark.parametrize("token", ["iotd_" + "x" * 43, "not-a-token", "x" * 500])
def test_an_unknown_token_is_a_401(anon_client, device, token):
    response = post(anon_client, token, {"value": 1})

    assert response.status_code == 401
    assert stored(device) == []


def test_a_revoked_token_is_a_401(anon_client, device, device_token):
    device_token_revoke(device=device)
    assert post(anon_client, device_token, {"value": 1}).status_code == 401


def test_a_rotated_token_stops_at_once_and_the_new_one_works(anon_client, device, device_token):
    new_token = device_token_rotate(device=device)

    assert post(anon_client, device_token, {"value": 1}).status_code == 401
    assert post(anon_client, new_token, {"value": 2}).status_code == 200


def test_a_user_token_or_header_does_not_stand_in_for_the_path_token(api_client, device):
    assert post(api_client, "iotd_" + "x" * 43, {"value": 1}).status_code == 401


def test_get_is_not_allowed(anon_client, device_token):
    assert anon_client.get(f"/api/v1/{device_token}/telemetry").status_code == 405


def test_the_token_in_the_path_is_kept_out_of_the_servers_log(anon_client, device_token, caplog):
    caplog.set_level(logging.DEBUG)
    post(anon_client, device_token, b"{")
    post(anon_client, "iotd_" + "y" * 43, {"value": 1})
    anon_client.get(f"/api/v1/{device_token}/telemetry")

    assert device_token not in caplog.text
    assert "y" * 43 not in caplog.text
