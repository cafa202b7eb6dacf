"""The real influxdb-client package (its write API, synchronous and batching) and a
body in the form of Telegraf's documented output, against the running server."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS, WriteOptions
from influxdb_client.rest import ApiException

from devices.services import device_update
from telemetry.models import Reading
from tests.telemetry.helpers import stored

RECORDED = Path(__file__).parent / "recorded"
T0 = datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def influx(live_server, device_token):
    with InfluxDBClient(url=live_server.url, token=device_token, org="my-org", timeout=10_000) as client:
        yield client


def test_the_synchronous_write_api_stores_points_records_and_dicts(influx, device):
    write_api = influx.write_api(write_options=SYNCHRONOUS)
    write_api.write(
        bucket="home",
        record=Point("weather").tag("room", "kitchen").field("temp", 21.5).field("hum", 40).time(T0, WritePrecision.US),
        write_precision=WritePrecision.US,
    )
    write_api.write(bucket="home", record="boiler pressure=1.8,on=true 1700000001", write_precision=WritePrecision.S)
    write_api.write(
        bucket="home",
        record={"measurement": "boiler", "fields": {"pressure": 1.9}, "time": 1_700_000_002_000},
        write_precision=WritePrecision.MS,
    )

    assert stored(device) == [
        ("boiler.on", "2023-11-14T22:13:21+00:00", 1.0),
        ("boiler.pressure", "2023-11-14T22:13:21+00:00", 1.8),
        ("boiler.pressure", "2023-11-14T22:13:22+00:00", 1.9),
        ("weather.hum", T0.isoformat(), 40.0),
        ("weather.temp", T0.isoformat(), 21.5),
    ]


def test_gzip_from_the_client_is_accepted(live_server, device, device_token):
    with InfluxDBClient(url=live_server.url, token=device_token, org="o", enable_gzip=True) as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket="b",
            record=[Point("m").field("v", float(n)).time(1_700_000_000 + n, WritePrecision.S) for n in range(50)],
            write_precision=WritePrecision.S,
        )
    assert Reading.objects.filter(sensor__device=device).count() == 50


def test_the_batching_write_api_flushes_every_point(influx, device):
    options = WriteOptions(batch_size=100, flush_interval=200, retry_interval=100, max_retries=0)
    with influx.write_api(write_options=options) as write_api:
        for n in range(250):
            write_api.write(
                bucket="b",
                record=Point("meter")
                .tag("phase", "a")
                .field("power", float(n))
                .time(1_700_000_000 + n, WritePrecision.S),
                write_precision=WritePrecision.S,
            )
    # Closing the write API flushed every batch.
    assert Reading.objects.filter(sensor__device=device, sensor__key="meter.power").count() == 250


def test_a_string_field_is_refused_by_the_client_with_influxdbs_error(influx, device):
    write_api = influx.write_api(write_options=SYNCHRONOUS)
    with pytest.raises(ApiException) as raised:
        write_api.write(bucket="b", record=[Point("m").field("v", 1.0), Point("m").field("status", "ok")])

    assert raised.value.status == 400
    assert '"code":"invalid"' in raised.value.body.replace(" ", "")
    assert "string" in raised.value.body
    assert stored(device) == []


def test_a_wrong_token_is_a_401_for_the_client(live_server, device):
    with (
        InfluxDBClient(url=live_server.url, token="iotd_" + "x" * 43, org="o") as client,
        pytest.raises(ApiException) as raised,
    ):
        client.write_api(write_options=SYNCHRONOUS).write(bucket="b", record="m v=1")
    assert raised.value.status == 401


def test_a_telegraf_body_is_stored_with_its_tags_kept_as_the_device_says(client, device, device_token):
    device_update(device=device, config={"line_protocol_tags": ["cpu", "path"]})
    body = (RECORDED / "telegraf_cpu_mem.lp").read_bytes()

    # Telegraf's `outputs.influxdb` (1.x): /write?db=telegraf with the token as password.
    response = client.generic(
        "POST", f"/write?db=telegraf&u=telegraf&p={device_token}", body, content_type="text/plain; charset=utf-8"
    )

    assert response.status_code == 204
    keys = {key for key, _, _ in stored(device)}
    assert {"cpu.cpu0.usage_idle", "cpu.cpu1.usage_idle", "cpu.cpu-total.usage_idle", "mem.used_percent"} <= keys
    assert "disk./.used_percent" in keys
    assert len(keys) == 11 + 3 * 11 + 10 + 7
    assert {value for key, _, value in stored(device) if key == "cpu.cpu0.usage_idle"} == {68.75}


def test_telegrafs_system_input_needs_its_string_field_dropped(anon_client, device, device_token):
    body = (RECORDED / "telegraf_system.lp").read_bytes()
    response = anon_client.generic(
        "POST",
        "/api/v2/write?bucket=telegraf",
        body,
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Token {device_token}",
    )

    assert response.status_code == 400
    assert response.json()["line"] == 3
    assert "uptime_format" in response.json()["message"]
    assert stored(device) == []
