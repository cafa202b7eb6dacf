"""GET/POST /update and /update.json answer as ThingSpeak's update API does."""

import pytest

from devices.services import device_token_revoke, device_update
from telemetry.models import Reading
from tests.telemetry.helpers import stored

pytestmark = pytest.mark.django_db


def update(client, query="", *, data=None, method="GET", path="/update", **extra):
    if method == "GET":
        return client.get(f"{path}?{query}", **extra)
    return client.generic("POST", f"{path}?{query}", data or "", **extra)


def test_get_stores_the_fields_and_answers_the_entry_number(anon_client, device, device_token):
    first = update(anon_client, f"api_key={device_token}&field1=21.5&field2=40")
    second = update(anon_client, f"api_key={device_token}&field1=22")

    assert (first.status_code, first.content, first["Content-Type"]) == (200, b"1", "text/plain; charset=utf-8")
    assert second.content == b"2"
    assert sorted((key, value) for key, _, value in stored(device)) == [
        ("field1", 21.5),
        ("field1", 22.0),
        ("field2", 40.0),
    ]


def test_fields_are_named_by_the_devices_config(anon_client, device, device_token):
    device_update(device=device, config={"thingspeak_fields": {"field1": "temperature", "field3": "humidity"}})
    assert update(anon_client, f"api_key={device_token}&field1=21.5&field2=7&field3=40").content == b"1"
    assert sorted(key for key, _, _ in stored(device)) == ["field2", "humidity", "temperature"]


def test_a_form_post_as_the_arduino_tutorials_send_it(anon_client, device, device_token):
    body = f"api_key={device_token}&field1=3.3&field4=1"
    response = update(anon_client, data=body, method="POST", content_type="application/x-www-form-urlencoded")

    assert response.content == b"1"
    assert sorted(key for key, _, _ in stored(device)) == ["field1", "field4"]


def test_the_key_in_the_header_and_a_json_body(anon_client, device, device_token):
    response = update(
        anon_client,
        data='{"field1": 5, "field2": "6.5"}',
        method="POST",
        content_type="application/json",
        HTTP_THINGSPEAKAPIKEY=device_token,
    )
    assert response.content == b"1"
    assert sorted(value for _, _, value in stored(device)) == [5.0, 6.5]


@pytest.mark.parametrize(
    "created_at, expected",
    [
        ("2024-03-01 12:00:00", "2024-03-01T12:00:00+00:00"),
        ("2024-03-01T12:00:00Z", "2024-03-01T12:00:00+00:00"),
        ("2024-03-01T12:00:00+02:00", "2024-03-01T10:00:00+00:00"),
    ],
)
def test_created_at_stamps_the_entry(anon_client, device, device_token, created_at, expected):
    assert (
        update(anon_client, f"api_key={device_token}&field1=1&created_at={created_at.replace('+', '%2B')}").content
        == b"1"
    )
    assert stored(device)[0][1] == expected


def test_a_timezone_parameter_places_a_naive_created_at(anon_client, device, device_token):
    query = f"api_key={device_token}&field1=1&created_at=2024-03-01 12:00:00&timezone=Europe/Paris"
    assert update(anon_client, query).content == b"1"
    assert stored(device)[0][1] == "2024-03-01T11:00:00+00:00"


def test_update_json_answers_the_entry(anon_client, device, device_token):
    response = update(
        anon_client, f"api_key={device_token}&field1=21.5&created_at=2024-03-01T12:00:00Z", path="/update.json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "channel_id": device.pk,
        "created_at": "2024-03-01T12:00:00Z",
        "entry_id": 1,
        "field1": "21.5",
        **{f"field{n}": None for n in range(2, 9)},
    }


@pytest.mark.parametrize(
    "query",
    [
        "field1=1",  # no key
        "api_key=wrong&field1=1",
        "api_key=iotd_" + "x" * 43 + "&field1=1",
    ],
)
def test_a_missing_or_wrong_key_answers_0_with_a_400_and_stores_nothing(anon_client, device, query):
    response = update(anon_client, query)
    assert (response.status_code, response.content) == (400, b"0")
    assert not Reading.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        "field1=warm",
        "field1=1&field2=nan",
        "field1=1&field2=inf",
        "field1=1_000",
        "field1=0x10",
        "status=hello",  # no field
        "",
        "field1=1&created_at=yesterday",
        "field1=1&created_at=2099-01-01T00:00:00Z",
        "field1=1&created_at=2024-03-01 12:00:00&timezone=Mars/Olympus",
    ],
)
def test_a_bad_update_answers_0_and_stores_nothing(anon_client, device, device_token, params):
    response = update(anon_client, f"api_key={device_token}&{params}")
    assert (response.status_code, response.content) == (200, b"0")
    assert stored(device) == []
    # The entry count does not move either: the next good update is entry 1.
    assert update(anon_client, f"api_key={device_token}&field1=1").content == b"1"


def test_a_bad_json_body_answers_0(anon_client, device, device_token):
    response = update(
        anon_client, data="{oops", method="POST", content_type="application/json", HTTP_THINGSPEAKAPIKEY=device_token
    )
    assert response.content == b"0"


def test_a_body_past_the_limit_answers_0(anon_client, device, device_token, settings):
    settings.TELEMETRY_MAX_BODY_BYTES = 50
    body = f"api_key={device_token}&field1=1&status=" + "x" * 100
    assert (
        update(anon_client, data=body, method="POST", content_type="application/x-www-form-urlencoded").content == b"0"
    )
    assert stored(device) == []


def test_a_revoked_key_answers_0(anon_client, device, device_token):
    device_token_revoke(device=device)
    response = update(anon_client, f"api_key={device_token}&field1=1")
    assert (response.status_code, response.content) == (400, b"0")


def test_past_the_device_rate_the_answer_is_0(anon_client, device, device_token, tight_rates):
    answers = [update(anon_client, f"api_key={device_token}&field1={n}") for n in range(4)]
    assert [(answer.status_code, answer.content) for answer in answers] == [
        (200, b"1"),
        (200, b"2"),
        (200, b"3"),
        (200, b"0"),
    ]
    assert len(stored(device)) == 3


def test_entry_numbers_are_per_device(anon_client, user, device_token):
    from devices.services import device_create

    _other, other_token = device_create(owner=user, name="Other", type="generic")
    assert update(anon_client, f"api_key={device_token}&field1=1").content == b"1"
    assert update(anon_client, f"api_key={other_token}&field1=1").content == b"1"
    assert update(anon_client, f"api_key={device_token}&field1=1").content == b"2"


def test_the_key_in_the_query_is_kept_out_of_the_servers_log(anon_client, device_token, caplog, settings):
    import logging

    settings.LOG_REQUESTS = True
    caplog.set_level(logging.DEBUG)
    update(anon_client, f"api_key={device_token}&field1=oops")
    update(anon_client, f"api_key={device_token}&field1=1")
    assert device_token not in caplog.text


@pytest.mark.parametrize(
    "config, field",
    [
        ({"thingspeak_fields": {"field9": "x"}}, "thingspeak_fields"),
        ({"thingspeak_fields": {"field1": ""}}, "thingspeak_fields"),
        ({"thingspeak_fields": ["temperature"]}, "thingspeak_fields"),
        ({"line_protocol_tags": "some"}, "line_protocol_tags"),
        ({"line_protocol_tags": [1]}, "line_protocol_tags"),
    ],
)
def test_the_device_api_refuses_a_bad_protocol_setting(api_client, device, config, field):
    response = api_client.patch(f"/api/devices/{device.pk}/", {"config": config}, format="json")
    assert response.status_code == 400
    assert field in str(response.json())


def test_the_device_api_takes_the_protocol_settings(api_client, device):
    config = {"thingspeak_fields": {"field1": "temperature"}, "line_protocol_tags": ["room"]}
    response = api_client.patch(f"/api/devices/{device.pk}/", {"config": config}, format="json")
    assert response.status_code == 200
