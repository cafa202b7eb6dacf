"""POST /api/v2/write and /write take InfluxDB line protocol and answer as InfluxDB does."""

import base64
import gzip

import pytest

from devices.services import device_token_revoke, device_update
from telemetry.models import Sensor
from tests.telemetry.helpers import stored

pytestmark = pytest.mark.django_db

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
T0_ISO = "2023-11-14T22:13:20+00:00"


def write(client, body, *, token=None, query="bucket=b&precision=s", path="/api/v2/write", **headers):
    raw = body.encode() if isinstance(body, str) else body
    if token is not None:
        headers.setdefault("HTTP_AUTHORIZATION", f"Token {token}")
    return client.generic("POST", f"{path}?{query}", raw, content_type="text/plain; charset=utf-8", **headers)


def test_fields_become_sensors_named_measurement_dot_field(anon_client, device, device_token):
    response = write(anon_client, f"weather,room=kitchen temp=21.5,hum=40i,ok=true {T0}\n", token=device_token)

    assert response.status_code == 204
    assert response.content == b""
    assert stored(device) == [
        ("weather.hum", T0_ISO, 40.0),
        ("weather.ok", T0_ISO, 1.0),
        ("weather.temp", T0_ISO, 21.5),
    ]


def test_a_field_named_value_is_the_measurement_itself(anon_client, device, device_token):
    assert write(anon_client, f"temperature value=21.5 {T0}", token=device_token).status_code == 204
    assert stored(device) == [("temperature", T0_ISO, 21.5)]


@pytest.mark.parametrize(
    "setting, keys",
    [
        (None, ["cpu.usage_idle"]),
        ("drop", ["cpu.usage_idle"]),
        ("keep", ["cpu.cpu0.server01.usage_idle", "cpu.cpu1.server01.usage_idle"]),
        (["cpu"], ["cpu.cpu0.usage_idle", "cpu.cpu1.usage_idle"]),
    ],
)
def test_the_devices_tag_setting_keeps_tag_values_in_the_sensor_name(anon_client, device, device_token, setting, keys):
    if setting is not None:
        device_update(device=device, config={"line_protocol_tags": setting})
    body = f"cpu,cpu=cpu0,host=server01 usage_idle=90 {T0}\ncpu,host=server01,cpu=cpu1 usage_idle=80 {T0}\n"

    assert write(anon_client, body, token=device_token).status_code == 204
    assert sorted({key for key, _, _ in stored(device)}) == keys


def test_escaped_names_and_comments_and_blank_lines(anon_client, device, device_token):
    body = f"# a comment\n\nmy\\ room,tag\\,x=a\\ b temp\\=c=1.5 {T0}\r\n"
    assert write(anon_client, body, token=device_token).status_code == 204
    assert stored(device) == [("my room.temp=c", T0_ISO, 1.5)]


@pytest.mark.parametrize(
    "precision, stamp",
    [("ns", T0 * 10**9 + 123_456_789), ("us", T0 * 10**6 + 123_456), ("ms", T0 * 1000 + 123), ("s", T0)],
)
def test_every_v2_precision(anon_client, device, device_token, precision, stamp):
    assert (
        write(anon_client, f"m v=1 {stamp}", token=device_token, query=f"bucket=b&precision={precision}").status_code
        == 204
    )
    expected = {"ns": ".123456", "us": ".123456", "ms": ".123000", "s": ""}[precision]
    assert stored(device)[0][1] == f"2023-11-14T22:13:20{expected}+00:00"


def test_without_precision_timestamps_are_nanoseconds(anon_client, device, device_token):
    assert write(anon_client, f"m v=1 {T0 * 10**9}", token=device_token, query="bucket=b").status_code == 204
    assert stored(device)[0][1] == T0_ISO


def test_without_timestamp_the_server_time_is_used(anon_client, device, device_token):
    assert write(anon_client, "m v=1", token=device_token).status_code == 204
    assert len(stored(device)) == 1


@pytest.mark.parametrize(
    "precision, stamp",
    [
        ("n", T0 * 10**9),
        ("ns", T0 * 10**9),
        ("u", T0 * 10**6),
        ("ms", T0 * 1000),
        ("s", T0),
        ("m", T0 // 60),
        ("h", T0 // 3600),
    ],
)
def test_every_v1_precision(anon_client, device, device_token, precision, stamp):
    query = f"db=telegraf&precision={precision}&u=any&p={device_token}"
    assert write(anon_client, f"m v=1 {stamp}", path="/write", query=query).status_code == 204
    expected = {"m": "2023-11-14T22:13:00+00:00", "h": "2023-11-14T22:00:00+00:00"}.get(precision, T0_ISO)
    assert stored(device)[0][1] == expected


def test_v1_takes_the_token_as_basic_auth_password_or_token_header(anon_client, device, device_token):
    basic = base64.b64encode(f"telegraf:{device_token}".encode()).decode()
    assert (
        write(
            anon_client, f"m v=1 {T0}", path="/write", query="db=x&precision=s", HTTP_AUTHORIZATION=f"Basic {basic}"
        ).status_code
        == 204
    )
    assert (
        write(anon_client, f"m v=2 {T0 + 1}", path="/write", query="db=x&precision=s", token=device_token).status_code
        == 204
    )
    assert [value for _, _, value in stored(device)] == [1.0, 2.0]


def test_a_gzip_body_is_accepted(anon_client, device, device_token):
    body = gzip.compress(f"m v=1 {T0}\nm v=2 {T0 + 1}\n".encode())
    assert write(anon_client, body, token=device_token, HTTP_CONTENT_ENCODING="gzip").status_code == 204
    assert len(stored(device)) == 2


def test_a_gzip_body_of_several_members_is_read_whole(anon_client, device, device_token):
    body = gzip.compress(f"m v=1 {T0}\n".encode()) + gzip.compress(f"m v=2 {T0 + 1}\n".encode())
    assert write(anon_client, body, token=device_token, HTTP_CONTENT_ENCODING="gzip").status_code == 204
    assert [value for _, _, value in stored(device)] == [1.0, 2.0]


def test_a_gzip_body_past_the_limit_once_decompressed_is_a_413(anon_client, device, device_token, settings):
    settings.TELEMETRY_MAX_BODY_BYTES = 10_000
    body = gzip.compress(b"m v=1\n" * 5_000)  # 30 kB of lines in well under 1 kB
    assert len(body) < 1_000

    response = write(anon_client, body, token=device_token, HTTP_CONTENT_ENCODING="gzip")

    assert response.status_code == 413
    assert response.json()["code"] == "request too large"
    assert stored(device) == []


@pytest.mark.parametrize(
    "body, encoding, status",
    [(b"not gzip at all", "gzip", 400), (gzip.compress(b"m v=1\n", mtime=0)[:-12], "gzip", 400), (b"m v=1", "br", 415)],
    ids=["not gzip", "cut short", "unknown encoding"],
)
def test_a_bad_encoding_is_refused(anon_client, device, device_token, body, encoding, status):
    response = write(anon_client, body, token=device_token, HTTP_CONTENT_ENCODING=encoding)
    assert response.status_code == status
    assert set(response.json()) >= {"code", "message"}
    assert stored(device) == []


@pytest.mark.parametrize(
    "line, reason",
    [
        ('m status="ok"', "is a string"),
        ('m v=1,status="a \\"quoted\\" one"', "is a string"),
        ("m", "missing fields"),
        ("m v=", "missing field value"),
        ("m =1", "missing field key"),
        ("m,t v=1", "missing tag value"),
        ("m,=x v=1", "missing tag key"),
        (",t=x v=1", "missing measurement"),
        ("m v=abc", "invalid field value"),
        ("m v=1x", "invalid field value"),
        ("m v=nan", "invalid field value"),
        ("m v=9223372036854775808i", "out of range"),
        ("m v=1 12.5", "bad timestamp"),
        ("m v=1 1 2", "bad timestamp"),
        ('m v="unterminated', "unbalanced quotes"),
        ("m v=1e999", "finite"),
        ("m " + "x" * 70 + "=1", "at most 64 characters"),
    ],
)
def test_a_bad_line_refuses_the_whole_request_with_influxdbs_error(anon_client, device, device_token, line, reason):
    response = write(anon_client, f"good v=1 {T0}\n{line}\n", token=device_token)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert reason in body["message"]
    assert body["line"] == 2
    assert stored(device) == []
    assert not Sensor.objects.filter(device=device).exists()


def test_a_timestamp_too_far_in_the_future_is_a_422(anon_client, device, device_token):
    response = write(anon_client, f"m v=1 {T0}\nm v=2 4102444800", token=device_token)

    assert response.status_code == 422
    assert response.json()["code"] == "unprocessable entity"
    assert "future" in response.json()["message"]
    assert stored(device) == []


def test_seconds_sent_as_nanoseconds_are_a_422_naming_the_precision(anon_client, device, device_token):
    response = write(anon_client, f"m v=1 {T0}", token=device_token, query="bucket=b")

    assert response.status_code == 422
    assert "precision" in response.json()["message"]


@pytest.mark.parametrize("body", ["", "\n\n# only a comment\n"])
def test_an_empty_write_is_a_400(anon_client, device_token, body):
    response = write(anon_client, body, token=device_token)
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": "writing requires points"}


def test_more_readings_than_the_batch_limit_is_a_413(anon_client, device, device_token, settings):
    settings.TELEMETRY_MAX_BATCH = 3
    response = write(anon_client, f"m a=1,b=2 {T0}\nm a=1,b=2 {T0 + 1}", token=device_token)
    assert response.status_code == 413
    assert response.json()["code"] == "request too large"
    assert stored(device) == []


def test_a_body_past_the_byte_limit_is_a_413(anon_client, device_token, settings):
    settings.TELEMETRY_MAX_BODY_BYTES = 100
    assert write(anon_client, "m v=1\n" * 50, token=device_token).status_code == 413


@pytest.mark.parametrize(
    "query, status",
    [("precision=s", 400), ("bucket=b&precision=xs", 400), ("bucket=b&precision=h", 400)],
)
def test_bad_query_parameters_are_a_400(anon_client, device_token, query, status):
    response = write(anon_client, f"m v=1 {T0}", token=device_token, query=query)
    assert response.status_code == status
    assert response.json()["code"] == "invalid"


def test_v1_without_db_is_a_400_in_both_formats(anon_client, device_token):
    response = write(anon_client, f"m v=1 {T0}", path="/write", query=f"precision=s&p={device_token}")
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": "database is required", "error": "database is required"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Token iotd_" + "x" * 43},
        {"HTTP_AUTHORIZATION": "Token not-a-token"},
        {"HTTP_AUTHORIZATION": "Bearer whatever"},
        {"HTTP_AUTHORIZATION": "Device whatever"},
    ],
)
def test_a_missing_or_unknown_token_is_a_401(anon_client, device, headers):
    response = write(anon_client, f"m v=1 {T0}", **headers)
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "message": "unauthorized access"}
    assert stored(device) == []


def test_v1_with_a_wrong_password_is_a_401_in_both_formats(anon_client, device):
    response = write(anon_client, f"m v=1 {T0}", path="/write", query="db=x&u=a&p=wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized access"


def test_a_revoked_token_is_a_401(anon_client, device, device_token):
    device_token_revoke(device=device)
    assert write(anon_client, f"m v=1 {T0}", token=device_token).status_code == 401


def test_the_device_rate_limit_holds_with_influxdbs_429(anon_client, device_token, tight_rates):
    statuses = [write(anon_client, f"m v={n} {T0 + n}", token=device_token).status_code for n in range(4)]
    last = write(anon_client, f"m v=9 {T0 + 9}", token=device_token)

    assert statuses == [204, 204, 204, 429]
    assert last.json()["code"] == "too many requests"
    assert int(last["Retry-After"]) > 0


def test_a_retry_of_the_same_points_stores_them_once(anon_client, device, device_token):
    body = f"m v=1 {T0}\nm v=2 {T0 + 1}"
    assert write(anon_client, body, token=device_token).status_code == 204
    assert write(anon_client, body, token=device_token).status_code == 204
    assert len(stored(device)) == 2


def test_ping_answers_204_with_a_version(anon_client):
    response = anon_client.get("/ping")
    assert response.status_code == 204
    assert response["X-Influxdb-Version"]


def test_get_is_not_allowed(anon_client, device_token):
    response = anon_client.get("/api/v2/write?bucket=b", HTTP_AUTHORIZATION=f"Token {device_token}")
    assert response.status_code == 405
    assert response.json()["code"] == "method not allowed"
