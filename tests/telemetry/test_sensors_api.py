import pytest

from tests.telemetry.helpers import post

pytestmark = pytest.mark.django_db


def sensors(client, device):
    return {s["key"]: s for s in client.get(f"/api/devices/{device.pk}/sensors/").json()}


def test_each_sensor_has_count_and_latest(api_client, device_client, device):
    post(
        device_client,
        [
            {"ts": "2026-02-01T00:00:00Z", "values": {"t": 1, "h": 50}},
            {"ts": "2026-02-01T00:00:10Z", "values": {"t": 2}},
        ],
    )
    listed = sensors(api_client, device)
    assert listed["t"]["count"] == 2
    assert listed["t"]["last_value"] == 2
    assert listed["t"]["last_ts"] == "2026-02-01T00:00:10Z"
    assert listed["h"]["count"] == 1


def test_a_late_old_reading_counts_but_is_not_the_latest(api_client, device_client, device):
    post(device_client, {"ts": "2026-02-01T00:00:10Z", "values": {"t": 2}})
    post(device_client, {"ts": "2026-02-01T00:00:00Z", "values": {"t": 1}})
    listed = sensors(api_client, device)["t"]
    assert (listed["count"], listed["last_value"], listed["last_ts"]) == (2, 2, "2026-02-01T00:00:10Z")


def test_the_device_lists_its_sensor_keys(api_client, device_client, device):
    post(device_client, {"b": 1, "a": 2})
    assert api_client.get(f"/api/devices/{device.pk}/").json()["sensors"] == ["a", "b"]


def test_another_users_sensors_are_404(other_client, device):
    assert other_client.get(f"/api/devices/{device.pk}/sensors/").status_code == 404
