"""Every API operation in the OpenAPI schema, called as anonymous, as another user, as
a device and as a revoked device: each gets 401 or 404 where it must, never data.

Operations come from the schema, so a new endpoint is covered the day it is added.
Path ids are alice's own objects, so bob's 404 proves scoping, not a missing row.
"""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from devices.services import device_create, device_token_revoke

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
METHODS = {"get", "post", "put", "patch", "delete"}
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if method in METHODS
]
PARAMETER = re.compile(r"\{[^}]+\}")
SECRET_NAME = "Alice's secret boiler"


def is_public(operation) -> bool:
    return {} in operation.get("security", [{}])


def is_device_operation(operation) -> bool:
    return any("deviceToken" in requirement for requirement in operation.get("security", []))


def operation_ids(operations):
    return [f"{method} {path}" for method, path, _operation in operations]


USER_OPERATIONS = [op for op in OPERATIONS if not is_public(op[2]) and not is_device_operation(op[2])]
DEVICE_OPERATIONS = [op for op in OPERATIONS if is_device_operation(op[2])]
PROTECTED_OPERATIONS = USER_OPERATIONS + DEVICE_OPERATIONS


@pytest.fixture
def alice_world(user, api_client):
    """Alice's device with a reading, an alert rule, a channel and a fired alert."""
    device, token = device_create(owner=user, name=SECRET_NAME, type="generic")
    sender = APIClient()
    sender.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    api_client.post("/api/alert-rules/", {"device": device.pk, "sensor": "value", "upper": 10}, format="json")
    api_client.post(
        "/api/notification-channels/", {"kind": "email", "name": "Mail", "address": "a@example.com"}, format="json"
    )
    sender.post("/api/telemetry/", {"value": 100}, format="json")
    api_client.post(f"/api/devices/{device.pk}/commands/", {"method": "ping"}, format="json")
    return device, token


def owned_id(api_client, path: str, device_id: int) -> int:
    """The id of one of alice's objects for a path's first parameter, found through the
    collection it belongs to; her device when that collection is empty or not a list."""
    collection = path[: path.index("{")]
    if collection != "/api/devices/":
        body = api_client.get(collection).json()
        items = body.get("results", []) if isinstance(body, dict) else body
        if items and isinstance(items[0], dict) and "id" in items[0]:
            return items[0]["id"]
    return device_id


def concrete(path: str, object_id: int) -> str:
    return PARAMETER.sub(str(object_id), path)


def call(client: APIClient, method: str, path: str):
    return client.generic(method, path, b"{}", content_type="application/json")


def device_client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    return client


def status_of(client, method, url) -> int:
    return call(client, method, url).status_code


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "operation"), USER_OPERATIONS, ids=operation_ids(USER_OPERATIONS))
def test_user_endpoints_refuse_strangers_devices_and_other_users(
    method, path, operation, alice_world, api_client, anon_client, other_client
):
    device, token = alice_world
    url = concrete(path, owned_id(api_client, path, device.pk)) if "{" in path else path
    assert status_of(anon_client, method, url) == 401, "anonymous"
    assert status_of(device_client_for(token), method, url) == 401, "a device token"
    if "{" in path:
        assert status_of(other_client, method, url) == 404, "another user, on alice's object"
    else:
        response = call(other_client, method, url)
        assert response.status_code < 500, "another user"
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET_NAME.encode() not in content, "another user sees alice's device"
    device_token_revoke(device=device)
    assert status_of(device_client_for(token), method, url) == 401, "a revoked device token"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "operation"), DEVICE_OPERATIONS, ids=operation_ids(DEVICE_OPERATIONS))
def test_device_endpoints_let_in_only_a_live_device_token(
    method, path, operation, alice_world, api_client, anon_client, other_client
):
    device, token = alice_world
    # A device path's parameter names one of the device's own commands.
    url = concrete(path, device.commands.latest("id").pk) if "{" in path else path
    assert status_of(anon_client, method, url) == 401, "anonymous"
    assert status_of(api_client, method, url) == 401, "the owner's user token"
    assert status_of(other_client, method, url) == 401, "another user's token"
    assert status_of(device_client_for(token), method, url) not in {401, 403, 404}, "the device"
    device_token_revoke(device=device)
    assert status_of(device_client_for(token), method, url) == 401, "a revoked device token"


def test_the_matrix_covers_user_and_device_endpoints():
    paths = {path for _method, path, _operation in OPERATIONS}
    assert {"/api/devices/{id}/", "/api/telemetry/", "/api/export.csv"} <= paths
    assert len(DEVICE_OPERATIONS) >= 3 and len(USER_OPERATIONS) >= 15
