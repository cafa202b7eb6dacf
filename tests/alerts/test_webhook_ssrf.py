"""Webhooks never reach the server's own network: refused at save and at send time,
sent to the address that was checked, and never redirected. Every receiver here is a
real HTTP server on 127.0.0.1; names are faked by replacing alerts.webhooks.resolve."""

from __future__ import annotations

import pytest

from alerts import webhooks
from alerts.delivery import notifications_deliver_due
from alerts.models import Notification, NotificationAttempt
from alerts.services import alert_rule_create, notification_channel_create
from tests.alerts.servers import webhook_server
from tests.support.alerts import ingest

pytestmark = pytest.mark.django_db

INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:6379/",
    "http://localhost:8000/",
    "http://[::1]:5432/",
    "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.7/hook",
    "http://192.168.1.20:8123/api/webhook/x",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0:8000/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
]


@pytest.fixture(autouse=True)
def no_open_networks(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []


@pytest.fixture
def fake_dns(monkeypatch):
    """name -> addresses, one list per lookup (the last repeats); counts the lookups."""
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        queue = answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(webhooks, "resolve", resolve)
    return answers, lookups


def create(client, url):
    return client.post("/api/notification-channels/", {"kind": "webhook", "url": url}, format="json")


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_a_webhook_to_an_internal_address_is_refused_when_saved(api_client, url):
    response = create(api_client, url)
    assert response.status_code == 400, response.json()
    assert "url" in response.json()
    assert "Refused" in str(response.json()["url"])


def test_a_name_that_resolves_to_a_private_address_is_refused(api_client, fake_dns):
    answers, _lookups = fake_dns
    answers["nas.example.com"] = [["203.0.113.9", "10.1.2.3"]]  # one private address is enough
    assert create(api_client, "https://nas.example.com/hook").status_code == 400
    answers["hooks.example.com"] = [["93.184.215.14"]]
    assert create(api_client, "https://hooks.example.com/hook").status_code == 201


def test_a_patch_to_an_internal_address_is_refused(api_client):
    channel = create(api_client, "https://93.184.215.14/hook").json()
    response = api_client.patch(
        f"/api/notification-channels/{channel['id']}/", {"url": "http://127.0.0.1:5432/"}, format="json"
    )
    assert response.status_code == 400
    assert "url" in response.json()


def test_the_allowed_networks_open_exactly_those(api_client, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["192.168.1.0/24"]
    assert create(api_client, "http://192.168.1.20:8123/api/webhook/x").status_code == 201
    assert create(api_client, "http://192.168.2.20/").status_code == 400
    assert create(api_client, "http://10.0.0.7/").status_code == 400


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/", "http://[fe80::1]/", "http://0.0.0.0/"])
def test_link_local_and_metadata_addresses_stay_refused_whatever_is_opened(api_client, settings, url):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["0.0.0.0/0", "::/0"]
    assert create(api_client, url).status_code == 400


def _fire(user, device, url):
    channel = notification_channel_create(owner=user, kind="webhook", url=url)
    alert_rule_create(device=device, sensor="pressure", upper=10, channels=[channel])
    ingest(device, ("pressure", 0, 12.5))
    return channel


def test_a_name_that_resolves_to_an_internal_address_at_send_time_is_not_posted_to(user, device, fake_dns):
    answers, _lookups = fake_dns
    with webhook_server() as (url, receiver):
        port = url.split(":")[2].split("/")[0]
        # Public when the channel was saved; the name now points at the server itself.
        answers["hooks.example.com"] = [["127.0.0.1"]]
        _fire(user, device, f"http://hooks.example.com:{port}/hook")
        assert notifications_deliver_due() == 1
    assert receiver.requests == []
    notification = Notification.objects.get()
    assert notification.status == "failed"
    assert "Refused" in notification.last_error and "127.0.0.1" in notification.last_error
    assert [attempt.ok for attempt in NotificationAttempt.objects.all()] == [False]


def test_the_request_goes_to_the_address_that_was_checked(user, device, fake_dns, settings):
    # The first answer is checked; a rebinding answer after it must never be used.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    answers, lookups = fake_dns
    with webhook_server() as (url, receiver):
        port = url.split(":")[2].split("/")[0]
        answers["alerts.invalid"] = [["127.0.0.1"], ["169.254.169.254"]]
        _fire(user, device, f"http://alerts.invalid:{port}/hook")
        assert notifications_deliver_due() == 1
    ((headers, _body),) = receiver.requests
    assert headers["Host"] == f"alerts.invalid:{port}"  # the name is kept for the receiver
    assert lookups == ["alerts.invalid"]  # resolved once: the connection did not look it up again
    assert Notification.objects.get().status == "delivered"


def test_a_redirect_is_not_followed_and_is_recorded_as_a_failed_attempt(user, device, settings):
    # Both receivers are opened: not following the redirect is what keeps the second safe.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with webhook_server() as (inner_url, inner), webhook_server() as (url, receiver):
        receiver.replies = [(302, inner_url)]
        _fire(user, device, url)
        assert notifications_deliver_due() == 1
    assert len(receiver.requests) == 1
    assert inner.requests == []
    notification = Notification.objects.get()
    assert notification.status == "failed"
    assert "302" in notification.last_error
    ((attempt_ok, attempt_error),) = NotificationAttempt.objects.values_list("ok", "error")
    assert not attempt_ok and "302" in attempt_error
