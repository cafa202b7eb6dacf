"""Attributes through the owner's API, our device API and ThingsBoard's HTTP API."""

import pytest
from rest_framework.test import APIClient

from devicecomm.models import Attribute
from devices.services import device_create

pytestmark = pytest.mark.django_db


def url(device) -> str:
    return f"/api/devices/{device.pk}/attributes/"


def test_owner_sets_reads_and_deletes_shared_and_server_attributes(api_client, device):
    calibration = {"points": [[0, 0.0], [270, 10.0]], "unit": "bar"}
    response = api_client.post(
        url(device), {"scope": "shared", "attributes": {"interval": 10, "calibration": calibration}}
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"shared": {"calibration": calibration, "interval": 10}}
    api_client.post(url(device), {"scope": "server", "attributes": {"note": "north wall"}})
    api_client.post(url(device), {"scope": "shared", "attributes": {"interval": 30}})  # replaces

    assert api_client.get(url(device)).json() == {
        "client": {},
        "shared": {"calibration": calibration, "interval": 30},
        "server": {"note": "north wall"},
    }
    assert api_client.get(url(device), {"scope": "server"}).json() == {"server": {"note": "north wall"}}

    assert api_client.delete(f"{url(device)}?scope=shared&keys=interval,missing").status_code == 204
    assert api_client.get(url(device), {"scope": "shared"}).json() == {"shared": {"calibration": calibration}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "global", "attributes": {"a": 1}}, "scope"),
        ({"scope": "client", "attributes": {"a": 1}}, "scope"),  # the device's to report
        ({"scope": "shared", "attributes": {}}, "attributes"),
        ({"scope": "shared", "attributes": [1, 2]}, "attributes"),
        ({"scope": "shared", "attributes": {"": 1}}, "attributes"),
        ({"scope": "shared", "attributes": {"k" * 256: 1}}, "attributes"),
        ({"scope": "shared", "attributes": {"gone": None}}, "attributes"),
        ({"attributes": {"a": 1}}, "scope"),
    ],
)
def test_bad_attribute_bodies_name_the_field(api_client, device, body, field):
    response = api_client.post(url(device), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Attribute.objects.exists()


def test_an_oversized_value_is_refused_naming_its_key(api_client, device, settings):
    settings.ATTRIBUTE_MAX_VALUE_BYTES = 100
    response = api_client.post(url(device), {"scope": "shared", "attributes": {"ok": 1, "blob": "x" * 200}})
    assert response.status_code == 400
    assert list(response.json()["attributes"]) == ["blob"]
    assert not Attribute.objects.exists()


def test_too_many_keys_in_a_scope_are_refused(api_client, device, settings):
    settings.ATTRIBUTES_MAX_PER_SCOPE = 2
    assert api_client.post(url(device), {"scope": "shared", "attributes": {"a": 1, "b": 2}}).status_code == 200
    assert api_client.post(url(device), {"scope": "shared", "attributes": {"a": 5}}).status_code == 200
    response = api_client.post(url(device), {"scope": "shared", "attributes": {"c": 3}})
    assert response.status_code == 400 and "attributes" in response.json()


@pytest.mark.parametrize("query", ["scope=unknown&keys=a", "scope=client&keys=a", "scope=shared", "keys=a"])
def test_bad_deletes_name_the_field(api_client, device, query):
    response = api_client.delete(f"{url(device)}?{query}")
    assert response.status_code == 400


def test_an_unknown_scope_to_read_is_refused(api_client, device):
    response = api_client.get(url(device), {"scope": "everything"})
    assert response.status_code == 400 and "scope" in response.json()


def test_another_users_device_is_a_404(other_client, device):
    assert other_client.get(url(device)).status_code == 404
    assert other_client.post(url(device), {"scope": "shared", "attributes": {"a": 1}}).status_code == 404
    assert other_client.delete(f"{url(device)}?scope=shared&keys=a").status_code == 404


def test_device_reports_client_attributes_and_reads_client_and_shared_only(api_client, device, device_client):
    api_client.post(url(device), {"scope": "shared", "attributes": {"interval": 10, "mode": "eco"}})
    api_client.post(url(device), {"scope": "server", "attributes": {"secret_note": "owner only"}})
    response = device_client.post(
        "/api/device/attributes/", b'{"fw": "1.2.0", "battery": 87}', content_type="text/plain"
    )
    assert response.status_code == 200, response.json()

    assert device_client.get("/api/device/attributes/").json() == {
        "client": {"battery": 87, "fw": "1.2.0"},
        "shared": {"interval": 10, "mode": "eco"},
    }
    assert device_client.get("/api/device/attributes/", {"sharedKeys": "interval,nope"}).json() == {
        "shared": {"interval": 10}
    }
    assert api_client.get(url(device), {"scope": "client"}).json() == {"client": {"battery": 87, "fw": "1.2.0"}}


def test_device_bad_bodies(device_client, settings):
    settings.ATTRIBUTE_MAX_VALUE_BYTES = 10
    assert (
        device_client.post("/api/device/attributes/", b"{not json", content_type="application/json").status_code == 400
    )
    response = device_client.post(
        "/api/device/attributes/", b'{"fw": "a long version string"}', content_type="application/json"
    )
    assert response.status_code == 400 and "fw" in response.json()["attributes"]


def test_thingsboard_http_attributes(api_client, device, device_token):
    tb = APIClient()
    base = f"/api/v1/{device_token}/attributes"
    assert (
        tb.post(base, b'{"attribute1": "value1", "attribute2": true}', content_type="application/json").status_code
        == 200
    )
    api_client.post(url(device), {"scope": "shared", "attributes": {"shared1": "value2", "shared2": False}})

    response = tb.get(base, {"clientKeys": "attribute1,attribute2", "sharedKeys": "shared1,shared2"})
    assert response.json() == {
        "client": {"attribute1": "value1", "attribute2": True},
        "shared": {"shared1": "value2", "shared2": False},
    }
    assert tb.get(base).json()["shared"] == {"shared1": "value2", "shared2": False}


def test_thingsboard_http_attributes_with_a_bad_token(user):
    _device, token = device_create(owner=user, name="Other", type="generic")
    wrong = token[:-4] + "AAAA"
    assert APIClient().get(f"/api/v1/{wrong}/attributes").status_code == 401
    assert APIClient().get(f"/api/v1/{wrong}/attributes/updates?timeout=10").status_code == 401


def test_thingsboard_attribute_updates_long_poll_times_out_with_408(device_token):
    response = APIClient().get(f"/api/v1/{device_token}/attributes/updates", {"timeout": 100})
    assert response.status_code == 408


def test_our_attribute_updates_long_poll_times_out_with_204(device_client):
    assert device_client.get("/api/device/attributes/updates/", {"timeout": 0.1}).status_code == 204
    response = device_client.get("/api/device/attributes/updates/", {"timeout": "soon"})
    assert response.status_code == 400 and "timeout" in response.json()
