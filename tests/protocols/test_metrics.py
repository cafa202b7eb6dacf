"""GET /metrics: behind METRICS_ENABLED and a bearer token, in Prometheus' text format."""

import os
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from protocols.bridge import services as bridge_services
from tests.support.mqtt_broker import ROOT

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = TOKEN


def scrape(client, token=TOKEN):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def samples(response) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_off_by_default_it_is_a_404(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert scrape(client).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic " + TOKEN, TOKEN])
def test_without_the_token_it_is_a_401(client, metrics_on, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_empty_token_setting_refuses_everyone(client, settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = ""
    assert scrape(client, token="").status_code == 401


def test_requests_readings_latency_and_database_figures(client, metrics_on, device_client, device, user, committed):
    before = samples(scrape(client))
    with committed():  # the readings counter counts after the commit, as in production
        assert device_client.post("/api/telemetry/", {"a": 1, "b": 2}, format="json").status_code == 201
    device_client.post("/api/telemetry/", b"{", content_type="application/json")
    bridge_services.broker_create(owner=user, name="Home", host="10.0.0.2")

    response = scrape(client)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    after = samples(response)

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("iotsite_readings_stored_total") == 2
    assert grew("iotsite_http_requests_total", route="telemetry", method="POST", status="201") == 1
    assert grew("iotsite_http_requests_total", route="telemetry", method="POST", status="400") == 1
    assert grew("iotsite_ingest_request_seconds_count", protocol="json") == 2
    assert after[("iotsite_metrics_database_up", ())] == 1
    assert after[("iotsite_devices", ())] == 1
    assert after[("iotsite_devices_online", ())] == 1
    assert after[("iotsite_sensors", ())] == 2
    assert after[("iotsite_alert_outbox_backlog", ())] == 0
    assert after[("iotsite_bridge_brokers", (("state", "other"),))] == 1
    assert ("iotsite_live_connections", ()) in after


def test_the_mqtt_queues_are_exported(client, metrics_on):
    import telemetry.mqtt  # noqa: F401  (the ingest worker's module, as in mqtt_ingest)

    found = samples(scrape(client))
    assert ("iotsite_mqtt_ingest_queue_messages", ()) in found
    assert ("iotsite_bridge_queue_messages", ()) in found


def test_the_alert_outbox_backlog_is_read_from_the_database(client, metrics_on, device, device_client, api_client):
    from alerts.evaluation import rule_cache_forget

    rule_cache_forget()
    channel = api_client.post(
        "/api/notification-channels/", {"kind": "email", "address": "a@example.com"}, format="json"
    )
    assert channel.status_code == 201, channel.json()
    rule = api_client.post(
        "/api/alert-rules/",
        {"device": device.pk, "sensor": "value", "upper": 10, "channels": [channel.json()["id"]]},
        format="json",
    )
    assert rule.status_code == 201, rule.json()
    device_client.post("/api/telemetry/", {"value": 50}, format="json")

    assert samples(scrape(client))[("iotsite_alert_outbox_backlog", ())] == 1
    rule_cache_forget()


@pytest.mark.processes
def test_counts_from_several_processes_are_added_up(tmp_path):
    """Multiprocess mode: two worker processes count readings; a third scrapes."""
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "iotsite.settings",
    }
    count = "import django; django.setup(); from protocols.metrics import READINGS_STORED; READINGS_STORED.inc({n})"
    for n in (5, 7):
        subprocess.run([sys.executable, "-c", count.format(n=n)], cwd=ROOT, env=env, check=True, timeout=120)
    scrape_code = (
        "import django; django.setup(); from protocols.metrics import exposition; "
        "import sys; sys.stdout.write(exposition().decode())"
    )
    out = subprocess.run(
        [sys.executable, "-c", scrape_code], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True
    ).stdout
    assert "iotsite_readings_stored_total 12.0" in out


async def test_live_connections_count_from_accept_to_close():
    from channels.testing import WebsocketCommunicator

    from protocols.metrics import LIVE_CONNECTIONS, count_live_connections

    async def accepting_app(scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass

    before = LIVE_CONNECTIONS._value.get()
    communicator = WebsocketCommunicator(count_live_connections(accepting_app), "/ws/live/")
    connected, _ = await communicator.connect()
    assert connected
    assert LIVE_CONNECTIONS._value.get() == before + 1
    await communicator.disconnect()
    assert LIVE_CONNECTIONS._value.get() == before
