"""mqtt_ingest as real processes on PostgreSQL: workers sharing the subscription store
each message once, a worker killed mid-stream loses nothing, and SIGTERM stops one cleanly."""

import os
import signal
import threading

import orjson
import pytest

from devices.services import device_create
from telemetry.models import Reading
from tests.support.mqtt import PROCESS_TIMEOUT, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

T0_MS = 1_769_857_200_000


@pytest.fixture
def devices(user, mqtt_settings):
    return [device_create(owner=user, name=f"Line {i}", type="generic") for i in range(3)]


def publish_stream(connect_device, devices, *, per_device: int, timed: bool) -> None:
    """Every device publishes per_device readings, one message each, QoS 1."""
    clients = [(device.pk, connect_device(device.pk, token)) for device, token in devices]
    for i in range(per_device):
        for device_id, client in clients:
            body = {"ts": T0_MS + i * 1000, "values": {"count": i}} if timed else {"count": i}
            client.client.publish(f"devices/{device_id}/telemetry", orjson.dumps(body), qos=1)
    for _device_id, client in clients:
        wait_until(lambda c=client: len(c.puback) == per_device, timeout=PROCESS_TIMEOUT, what="every PUBACK")


def handled_by(process) -> int:
    """Messages a stopped worker reported in its last line."""
    last = [line for line in process.log().splitlines() if "MQTT ingest stopped" in line][-1]
    return int(last.split("'messages': ")[1].split(",")[0])


def test_two_workers_share_the_subscription_and_store_each_message_once(devices, connect_device, ingest_process):
    first, second = ingest_process("iotsite-ingest-1"), ingest_process("iotsite-ingest-2")

    # Untimed readings: a message stored twice would be two rows.
    publish_stream(connect_device, devices, per_device=200, timed=False)
    wait_until(lambda: Reading.objects.count() >= 600, timeout=PROCESS_TIMEOUT, what="600 readings")

    assert first.stop() == 0 and second.stop() == 0  # SIGTERM: a clean stop
    assert Reading.objects.count() == 600
    assert handled_by(first) + handled_by(second) == 600
    assert handled_by(first) > 0 and handled_by(second) > 0


def test_a_worker_killed_mid_stream_loses_nothing(devices, connect_device, ingest_process):
    worker = ingest_process("iotsite-ingest-1")
    publisher = threading.Thread(
        target=publish_stream, args=(connect_device, devices), kwargs={"per_device": 500, "timed": True}
    )
    publisher.start()
    wait_until(lambda: Reading.objects.count() > 100, timeout=PROCESS_TIMEOUT, what="the first readings")
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    killed_at = Reading.objects.count()
    publisher.join(timeout=PROCESS_TIMEOUT)

    restarted = ingest_process("iotsite-ingest-1")  # the same session: the broker sends what was not acknowledged
    wait_until(lambda: Reading.objects.count() >= 1500, timeout=PROCESS_TIMEOUT, what="1500 readings")

    assert restarted.stop() == 0
    assert killed_at < 1500
    assert Reading.objects.count() == 1500
    assert sorted(set(Reading.objects.values_list("value", flat=True))) == [float(i) for i in range(500)]
