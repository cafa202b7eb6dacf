import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.delivery import notifications_deliver_due, retry_delay
from alerts.models import Notification, NotificationAttempt
from alerts.services import alert_rule_create, notification_channel_create
from tests.alerts.servers import webhook_server
from tests.support.alerts import ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook():
    with webhook_server() as (url, receiver):
        yield url, receiver


@pytest.fixture
def firing(device, user, webhook):
    url, _receiver = webhook
    channel = notification_channel_create(owner=user, kind="webhook", url=url, secret="s3cret")
    alert_rule_create(device=device, sensor="pressure", upper=10, channels=[channel])
    ingest(device, ("pressure", 0, 12.5))
    return channel


def test_the_webhook_gets_the_alert_as_json_signed_with_the_channel_secret(device, firing, webhook):
    _url, receiver = webhook
    assert notifications_deliver_due() == 1
    ((headers, body),) = receiver.requests
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Iotsite-Signature"] == f"sha256={expected}"
    assert headers["Content-Type"] == "application/json"
    alert = json.loads(body)
    assert (alert["type"], alert["state"], alert["device"], alert["sensor"], alert["value"], alert["upper"]) == (
        "alert",
        "firing",
        device.pk,
        "pressure",
        12.5,
        10,
    )
    assert Notification.objects.get().status == "delivered"


def test_a_webhook_that_fails_twice_then_succeeds_is_delivered_once(firing, webhook):
    _url, receiver = webhook
    receiver.replies = [500, 503]
    now = timezone.now()
    for _ in range(6):
        notifications_deliver_due(now=now)
        now += timedelta(hours=2)  # past any backoff
    assert len(receiver.requests) == 3
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("delivered", 3)
    assert [attempt.ok for attempt in NotificationAttempt.objects.order_by("id")] == [False, False, True]


def test_a_failed_attempt_waits_for_its_backoff(firing, webhook):
    _url, receiver = webhook
    receiver.replies = [500]
    now = timezone.now()
    notifications_deliver_due(now=now)
    notification = Notification.objects.get()
    assert notification.next_attempt_at == now + retry_delay(1)
    assert notifications_deliver_due(now=now + retry_delay(1) - timedelta(seconds=1)) == 0
    assert notifications_deliver_due(now=now + retry_delay(1)) == 1
    assert len(receiver.requests) == 2


def test_backoff_doubles_and_is_capped(settings):
    settings.ALERTS_RETRY_BASE_S, settings.ALERTS_RETRY_MAX_S = 30, 100
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_a_4xx_answer_stops_the_retries(firing, webhook):
    _url, receiver = webhook
    receiver.replies = [410]
    now = timezone.now()
    for _ in range(3):
        notifications_deliver_due(now=now)
        now += timedelta(hours=2)
    assert len(receiver.requests) == 1
    notification = Notification.objects.get()
    assert (notification.status, notification.last_error) == ("failed", "HTTP 410")


def test_it_gives_up_after_the_last_attempt(firing, webhook, settings):
    settings.ALERTS_MAX_ATTEMPTS = 3
    _url, receiver = webhook
    receiver.replies = [500] * 10
    now = timezone.now()
    for _ in range(5):
        notifications_deliver_due(now=now)
        now += timedelta(hours=2)
    assert len(receiver.requests) == 3
    assert Notification.objects.get().status == "failed"


def test_a_delivered_notification_is_never_sent_again(firing, webhook):
    _url, receiver = webhook
    notifications_deliver_due()
    assert notifications_deliver_due(now=timezone.now() + timedelta(days=1)) == 0
    assert len(receiver.requests) == 1


def test_a_notification_claimed_by_a_dead_worker_is_retried_after_its_lease(firing, webhook, settings):
    _url, receiver = webhook
    now = timezone.now()
    Notification.objects.update(status="sending", claimed_by="dead", claimed_until=now + timedelta(seconds=60))
    assert notifications_deliver_due(now=now) == 0
    assert notifications_deliver_due(now=now + timedelta(seconds=61)) == 1
    assert len(receiver.requests) == 1
