import pytest

from alerts.models import AlertEvent
from alerts.services import alert_rule_create, notification_channel_create
from tests.support.alerts import ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices(device, user):
    channel = notification_channel_create(owner=user, kind="email", address="alice@example.com")
    rule = alert_rule_create(device=device, sensor="pressure", upper=10, channels=[channel])
    ingest(device, ("pressure", 0, 11))
    return rule, channel, AlertEvent.objects.get()


def test_another_users_rule_is_not_found(other_client, alices):
    rule, _channel, _event = alices
    assert other_client.get(f"/api/alert-rules/{rule.pk}/").status_code == 404
    assert other_client.patch(f"/api/alert-rules/{rule.pk}/", {"upper": 1}, format="json").status_code == 404
    assert other_client.delete(f"/api/alert-rules/{rule.pk}/").status_code == 404
    assert other_client.get("/api/alert-rules/").json()["results"] == []


def test_another_users_channel_is_not_found(other_client, alices):
    _rule, channel, _event = alices
    assert other_client.get(f"/api/notification-channels/{channel.pk}/").status_code == 404
    assert other_client.delete(f"/api/notification-channels/{channel.pk}/").status_code == 404
    assert other_client.get("/api/notification-channels/").json()["results"] == []


def test_another_users_alerts_are_not_listed_nor_acknowledged(other_client, alices):
    _rule, _channel, event = alices
    assert other_client.get("/api/alerts/").json()["results"] == []
    assert other_client.post(f"/api/alerts/{event.pk}/ack/").status_code == 404
    event.refresh_from_db()
    assert not event.acknowledged


def test_a_rule_on_another_users_device_is_refused_as_if_missing(other_client, device):
    response = other_client.post("/api/alert-rules/", {"device": device.pk, "sensor": "p", "upper": 1}, format="json")
    assert response.status_code == 400
    assert "device" in response.json()


def test_another_users_channel_cannot_be_attached_to_a_rule(other_client, other_user, alices):
    from devices.services import device_create

    _rule, channel, _event = alices
    bobs_device, _token = device_create(owner=other_user, name="Bob's", type="generic")
    response = other_client.post(
        "/api/alert-rules/",
        {"device": bobs_device.pk, "sensor": "p", "upper": 1, "channels": [channel.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "channels" in response.json()
