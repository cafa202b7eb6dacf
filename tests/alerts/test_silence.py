from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import silence_rules_check
from alerts.models import AlertEvent, Notification
from alerts.selectors import devices_silenced
from alerts.services import alert_rule_create, notification_channel_create
from telemetry.models import Sensor

pytestmark = pytest.mark.django_db


def seen(device, when):
    device.last_seen_at = when
    device.save(update_fields=["last_seen_at"])


def test_a_quiet_device_fires_once(device, user):
    now = timezone.now()
    seen(device, now - timedelta(minutes=11))
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=600)
    assert [t.state for t in silence_rules_check(now=now)] == ["firing"]
    assert silence_rules_check(now=now + timedelta(minutes=1)) == []
    event = AlertEvent.objects.get()
    assert (event.kind, event.state, event.value) == ("silence", "firing", None)
    assert devices_silenced(user=user) == {device.pk}


def test_a_device_that_reports_again_resolves(device, user):
    now = timezone.now()
    seen(device, now - timedelta(minutes=11))
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=600)
    silence_rules_check(now=now)
    seen(device, now + timedelta(seconds=30))
    assert [t.state for t in silence_rules_check(now=now + timedelta(minutes=1))] == ["resolved"]
    assert [e.state for e in AlertEvent.objects.order_by("id")] == ["firing", "resolved"]
    assert devices_silenced(user=user) == set()


def test_a_device_reporting_in_time_stays_ok(device):
    now = timezone.now()
    seen(device, now - timedelta(minutes=9))
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=600)
    assert silence_rules_check(now=now) == []


def test_a_device_never_heard_from_is_quiet_from_the_rules_creation(device):
    rule = alert_rule_create(device=device, sensor="", kind="silence", duration_s=600)
    assert silence_rules_check(now=rule.created_at + timedelta(minutes=9)) == []
    assert len(silence_rules_check(now=rule.created_at + timedelta(minutes=10))) == 1


def test_a_quiet_sensor_fires_while_the_device_reports_other_sensors(device):
    now = timezone.now()
    seen(device, now)
    Sensor.objects.create(device=device, key="pressure", last_ts=now - timedelta(minutes=20))
    Sensor.objects.create(device=device, key="temperature", last_ts=now)
    alert_rule_create(device=device, sensor="pressure", kind="silence", duration_s=600)
    alert_rule_create(device=device, sensor="temperature", kind="silence", duration_s=600)
    fired = silence_rules_check(now=now)
    assert [(t.rule.sensor, t.state) for t in fired] == [("pressure", "firing")]


def test_two_workers_checking_at_once_record_one_event_and_one_notification(device, user, monkeypatch):
    from alerts import evaluation

    now = timezone.now()
    seen(device, now - timedelta(hours=1))
    channel = notification_channel_create(owner=user, kind="email", address="alice@example.com")
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=600, channels=[channel])
    read_by_second_worker = evaluation._silence_rules()  # read before the first worker writes
    assert len(silence_rules_check(now=now)) == 1
    monkeypatch.setattr(evaluation, "_silence_rules", lambda: read_by_second_worker)
    assert silence_rules_check(now=now) == []
    assert AlertEvent.objects.count() == 1
    assert Notification.objects.count() == 1


def test_silence_rules_ignore_ingest(device):
    from tests.support.alerts import ingest

    alert_rule_create(device=device, sensor="pressure", kind="silence", duration_s=60)
    ingest(device, ("pressure", 0, 1e9))
    assert AlertEvent.objects.count() == 0
