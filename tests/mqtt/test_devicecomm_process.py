"""`manage.py mqtt_devicecomm` as a real process on PostgreSQL: it stores what a device
reports, answers its requests, and an answer published while it was down is stored
when it comes back (its session kept it)."""

import pytest

from devicecomm import services
from devicecomm.models import Attribute, Command
from tests.support.mqtt import PROCESS_TIMEOUT, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_process_and_its_session(mqtt_device, mqtt_token, connect_device, ingest_process):
    worker = ingest_process("iotsite-devicecomm-1", command="mqtt_devicecomm")
    client = connect_device(mqtt_device.pk, mqtt_token)
    client.subscribe(f"devices/{mqtt_device.pk}/down/#")
    client.publish(f"devices/{mqtt_device.pk}/attributes", b'{"fw": "5.0"}')
    client.publish(f"devices/{mqtt_device.pk}/rpc/request/1", b'{"method": "getSessionLimits"}')
    wait_until(lambda: client.received, timeout=PROCESS_TIMEOUT, what="the client-side RPC answer")
    assert client.received[0].topic == f"devices/{mqtt_device.pk}/down/rpc/response/1"
    wait_until(lambda: Attribute.objects.filter(device=mqtt_device).exists(), timeout=PROCESS_TIMEOUT, what="fw")

    command = services.command_create(device=mqtt_device, method="reboot", timeout_s=600)
    assert worker.stop() == 0
    client.publish(f"devices/{mqtt_device.pk}/rpc/response/{command.pk}", b'{"rebooting": true}')
    ingest_process("iotsite-devicecomm-1", command="mqtt_devicecomm")  # the same session
    wait_until(
        lambda: Command.objects.get(pk=command.pk).state == "succeeded", timeout=PROCESS_TIMEOUT, what="the answer"
    )
