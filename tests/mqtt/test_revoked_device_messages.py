"""Messages still queued at the broker for a device revoked since are dropped and counted."""

import pytest

from devices.services import device_token_revoke
from telemetry.models import Reading
from tests.support.mqtt import wait_handled

pytestmark = pytest.mark.django_db(transaction=True)


def test_queued_messages_of_a_revoked_device_are_dropped(mqtt_device, mqtt_token, connect_device, ingest_thread):
    ingest_thread("iotsite-ingest-a").stop()  # its persistent session queues what comes next
    client = connect_device(mqtt_device.pk, mqtt_token)
    for value in range(3):
        client.publish(f"devices/{mqtt_device.pk}/telemetry", f'{{"value": {value}}}')
    device_token_revoke(device=mqtt_device)

    worker = ingest_thread("iotsite-ingest-a").worker
    wait_handled(worker, 3)

    assert worker.counts.unknown_device == 3
    assert not Reading.objects.exists()
