"""With replicas configured, a user who has just written reads from the primary for a
while (a cookie); a device's posts set none: devices never read history back."""

from __future__ import annotations

import pytest

from iotsite import replicas
from tests.telemetry.helpers import post


@pytest.fixture
def with_a_replica(monkeypatch):
    monkeypatch.setattr(replicas, "replica_aliases", lambda: ["replica0"])


@pytest.mark.django_db
def test_a_users_write_sets_the_cookie_for_the_lag_bound(with_a_replica, api_client, device, settings):
    response = api_client.patch(f"/api/devices/{device.pk}/", {"name": "Boiler 2"}, format="json")
    assert response.status_code == 200
    cookie = response.cookies[replicas.PRIMARY_READS_COOKIE]
    assert int(cookie["max-age"]) == int(settings.DATABASE_REPLICA_MAX_LAG.total_seconds()) + 1
    assert replicas.PRIMARY_READS_COOKIE not in api_client.get(f"/api/devices/{device.pk}/").cookies


@pytest.mark.django_db
def test_a_devices_post_sets_no_cookie(with_a_replica, device_client):
    response = post(device_client, {"value": 1})
    assert response.status_code == 201
    assert replicas.PRIMARY_READS_COOKIE not in response.cookies


@pytest.mark.django_db
def test_no_cookie_without_replicas(api_client, device):
    response = api_client.patch(f"/api/devices/{device.pk}/", {"name": "Boiler 2"}, format="json")
    assert replicas.PRIMARY_READS_COOKIE not in response.cookies
