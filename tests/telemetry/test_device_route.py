"""The device route in front of Django answers device POSTs as the API does, and hands
everything it is not sure of to Django (telemetry/device_route.py)."""

from __future__ import annotations

import asyncio

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError
from django.test import RequestFactory

from telemetry.device_route import AsgiDeviceRoute, WsgiDeviceRoute
from telemetry.models import IdempotencyRecord
from tests.security.test_throttles import tight_rates  # noqa: F401 (a fixture)
from tests.support.live import in_own_thread
from tests.telemetry.helpers import stored

pytestmark = pytest.mark.django_db(transaction=True)  # the route's threads see committed rows only

ITEM = b'{"ts": "2026-02-01T00:00:00Z", "values": {"t": 1.5}}'


def call_wsgi(path: str, body: bytes = ITEM, method: str = "POST", **headers: str) -> tuple[int, dict, bytes]:
    environ = RequestFactory().generic(method, path, body, content_type="application/json", **headers).environ
    environ["HTTP_HOST"] = "127.0.0.1"
    answered: dict = {}

    def start_response(status, response_headers, exc_info=None):
        answered["status"] = int(status.split()[0])
        answered["headers"] = dict(response_headers)

    chunks = WsgiDeviceRoute(WSGIHandler())(environ, start_response)
    content = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return answered["status"], answered["headers"], content


def call_asgi(path: str, body: bytes = ITEM, **headers: str) -> tuple[int, dict, bytes]:
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "scheme": "http",
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers.items()),
        ],
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected until answered

    async def send(message):
        sent.append(message)

    # A loop of its own thread: the browser tests' Playwright may keep one running in this one.
    in_own_thread(asyncio.run, AsgiDeviceRoute(ASGIHandler(), threads=2)(scope, receive, send))
    start = sent[0]
    content = b"".join(message.get("body", b"") for message in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, content


@pytest.fixture(params=["wsgi", "asgi"])
def post(request):
    def wsgi(path, body=ITEM, token=None, **headers):
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Device {token}"
        return call_wsgi(path, body, **{k if k.startswith("HTTP_") else f"HTTP_{k}": v for k, v in headers.items()})

    def asgi(path, body=ITEM, token=None, **headers):
        if token:
            headers["Authorization"] = f"Device {token}"
        return call_asgi(path, body, **{k.removeprefix("HTTP_").replace("_", "-"): v for k, v in headers.items()})

    return wsgi if request.param == "wsgi" else asgi


def test_a_good_body_is_stored_and_answered_201(post, device, device_token):
    status, headers, content = post("/api/telemetry/", token=device_token)
    assert status == 201
    assert content == b'{"accepted":1,"duplicates":0}'
    headers = {name.lower(): value for name, value in headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"]
    assert stored(device) == [("t", "2026-02-01T00:00:00+00:00", 1.5)]


def test_a_bad_body_is_answered_as_the_api_answers_it(post, device, device_token, device_client):
    status, _, content = post("/api/telemetry/", body=b'{"t": "warm"}', token=device_token)
    via_django = device_client.post("/api/telemetry/", b'{"t": "warm"}', content_type="application/json")
    assert status == via_django.status_code == 400
    assert content == via_django.content
    assert stored(device) == []


def test_no_or_a_bad_token_is_answered_by_django(post, device):
    assert post("/api/telemetry/")[0] == 401
    assert post("/api/telemetry/", token="iotd_" + "x" * 43)[0] == 401


def test_an_idempotency_key_retry_is_stored_once(post, device, device_token):
    first = post("/api/telemetry/", token=device_token, HTTP_IDEMPOTENCY_KEY="k1")
    again = post("/api/telemetry/", token=device_token, HTTP_IDEMPOTENCY_KEY="k1")
    other = post("/api/telemetry/", body=b'{"t": 2}', token=device_token, HTTP_IDEMPOTENCY_KEY="k1")
    assert first[0] == again[0] == 201 and first[2] == again[2]
    assert other[0] == 422
    assert len(stored(device)) == 1 and IdempotencyRecord.objects.count() == 1


def test_thingsboard_path_answers_an_empty_200_and_401_for_a_bad_token(post, device, device_token):
    status, _, content = post(f"/api/v1/{device_token}/telemetry", body=b'{"t": 3}')
    assert (status, content) == (200, b"")
    assert stored(device)[0][::2] == ("t", 3.0)
    assert post("/api/v1/iotd_nope/telemetry", body=b'{"t": 3}')[0] == 401


def test_a_device_past_its_rate_gets_429_from_django(post, device_token, tight_rates):  # noqa: F811
    statuses = [post("/api/telemetry/", body=b'{"t": %d}' % n, token=device_token)[0] for n in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_a_database_that_cannot_answer_is_a_503_with_retry_after(post, device, device_token, monkeypatch):
    def database_away(**kwargs):
        raise OperationalError("the primary is gone")

    monkeypatch.setattr("telemetry.device_route.device_by_token", database_away)
    status, headers, content = post("/api/telemetry/", token=device_token)
    assert status == 503
    assert {name.lower(): value for name, value in headers.items()}["retry-after"] == "2"
    assert b"try again" in content
    assert stored(device) == []


def test_other_requests_go_to_django(device, device_token):
    assert call_wsgi("/api/telemetry/", method="GET", HTTP_AUTHORIZATION=f"Device {device_token}")[0] == 405
    assert call_wsgi("/healthz", method="GET")[0] == 200


def test_a_body_past_the_limit_is_413_and_a_bad_token_with_it_still_401(settings, device, device_token):
    settings.TELEMETRY_MAX_BODY_BYTES = 100
    big = b'{"t": 1, "pad": "' + b"x" * 200 + b'"}'
    assert call_asgi("/api/telemetry/", big, Authorization=f"Device {device_token}")[0] == 413
    assert call_asgi("/api/telemetry/", big, Authorization="Device iotd_" + "x" * 43)[0] == 401
    assert call_wsgi("/api/telemetry/", big, HTTP_AUTHORIZATION=f"Device {device_token}")[0] == 413


def test_answers_are_counted_in_the_request_metrics(post, device, device_token):
    from protocols.metrics import HTTP_REQUESTS

    counted = HTTP_REQUESTS.labels(route="telemetry", method="POST", status="201")
    before = counted._value.get()
    assert post("/api/telemetry/", token=device_token)[0] == 201
    assert counted._value.get() == before + 1
