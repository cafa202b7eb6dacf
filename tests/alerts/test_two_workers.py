import json
import threading
from collections import Counter

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from alerts.models import AlertEvent, Notification, NotificationAttempt
from alerts.services import alert_rule_create, notification_channel_create
from tests.alerts.servers import webhook_server
from tests.support.alerts import ingest

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="SQLite has no row locks and one writer at a time: concurrent workers are a PostgreSQL matter",
    ),
]


def test_two_sendalerts_workers_deliver_each_notification_exactly_once(device, user):
    with webhook_server() as (url, receiver):
        channels = [notification_channel_create(owner=user, kind="webhook", url=url) for _ in range(3)]
        alert_rule_create(device=device, sensor="pressure", upper=10, channels=channels)
        # 20 transitions × 3 channels = 60 notifications.
        ingest(device, *[("pressure", second, 20 if second % 2 == 0 else 1) for second in range(20)])
        assert Notification.objects.count() == 60

        def worker():
            try:
                call_command("sendalerts", "--once", "--batch", "4", stdout=open("/dev/null", "w"))
            finally:
                connection.close()

        workers = [threading.Thread(target=worker) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=30)

    sent = Counter((json.loads(body)["id"], headers["X-Iotsite-Signature"]) for headers, body in receiver.requests)
    assert len(sent) == 60
    assert set(sent.values()) == {1}
    assert set(Notification.objects.values_list("status", flat=True)) == {"delivered"}
    assert NotificationAttempt.objects.count() == 60
    assert AlertEvent.objects.count() == 20
