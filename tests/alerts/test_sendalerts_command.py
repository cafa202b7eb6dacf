import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from alerts.models import AlertEvent, AlertRule, Notification
from alerts.services import alert_rule_create, notification_channel_create
from tests.alerts.servers import webhook_server
from tests.support.alerts import ingest

pytestmark = pytest.mark.django_db


def test_sendalerts_once_delivers_what_is_due_and_says_how_many(device, user):
    with webhook_server() as (url, receiver):
        channel = notification_channel_create(owner=user, kind="webhook", url=url)
        alert_rule_create(device=device, sensor="pressure", upper=10, channels=[channel])
        ingest(device, ("pressure", 0, 11), ("pressure", 1, 3))
        out = io.StringIO()
        call_command("sendalerts", "--once", stdout=out)
    assert len(receiver.requests) == 2
    assert "2 notification(s) attempted" in out.getvalue()
    assert set(Notification.objects.values_list("status", flat=True)) == {"delivered"}


def test_sendalerts_once_also_checks_silence_rules(device):
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=1)
    AlertRule.objects.update(created_at=AlertRule.objects.get().created_at - timedelta(minutes=5))
    call_command("sendalerts", "--once", stdout=io.StringIO())
    assert AlertEvent.objects.get().kind == "silence"
