"""MQTT test helpers: waiting for a condition or for a worker's counts, a device's MQTT
client, and the MQTT workers (mqtt_ingest, mqtt_devicecomm) in a thread of the test
process or as a process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from django.conf import settings as django_settings
from django.db import connection, connections
from paho.mqtt.enums import CallbackAPIVersion

from devicecomm.mqtt import DeviceCommWorker
from telemetry.models import Reading
from telemetry.mqtt import TelemetryIngest
from tests.support.mqtt_broker import ROOT, SERVER_PASSWORD, SERVER_USERNAME, Broker

# Generous: worker processes start Django, and the machine may be busy.
PROCESS_TIMEOUT = 60.0


def wait_until(predicate: Callable[[], object], *, timeout: float = 10.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def reading_count() -> int:
    return Reading.objects.count()


def wait_handled(worker: TelemetryIngest, messages: int) -> None:
    """Until the worker has stored, or dropped, this many messages. Tests watch the
    worker's counts while it runs, not the database: SQLite's shared in-memory test
    database answers "table is locked" to a reader beside a writer."""
    counts = worker.counts
    wait_until(
        lambda: counts.stored + counts.bad_payload + counts.unknown_device + counts.failed >= messages,
        what=f"{messages} messages handled",
    )


class DeviceClient:
    """A device's paho client (MQTT 5) that records what the broker answered."""

    def __init__(self, broker: Broker, *, username: str, password: str | None, client_id: str = ""):
        # No reconnecting: a refused device must stay refused, and close at once.
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, reconnect_on_failure=False
        )
        self.client.username_pw_set(username, password)
        self.connack = None
        self.disconnected = threading.Event()
        self.puback: dict[int, object] = {}
        self.suback: dict[int, list] = {}
        self.received: list[mqtt.MQTTMessage] = []
        self.client.on_connect = lambda c, u, f, reason, p: setattr(self, "connack", reason)
        self.client.on_disconnect = lambda c, u, f, reason, p: self.disconnected.set()
        self.client.on_publish = lambda c, u, mid, reason, p: self.puback.__setitem__(mid, reason)
        self.client.on_subscribe = lambda c, u, mid, reasons, p: self.suback.__setitem__(mid, reasons)
        self.client.on_message = lambda c, u, message: self.received.append(message)
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        wait_until(lambda: self.connack is not None or self.disconnected.is_set(), what="CONNACK")

    @property
    def accepted(self) -> bool:
        return self.connack is not None and not self.connack.is_failure and not self.disconnected.is_set()

    def publish(self, topic: str, payload: bytes | str, *, qos: int = 1):
        """The broker's PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=qos)
        wait_until(lambda: info.mid in self.puback, what="PUBACK")
        return self.puback[info.mid]

    def subscribe(self, topic: str) -> list:
        _result, mid = self.client.subscribe(topic, qos=1)
        wait_until(lambda: mid in self.suback, what="SUBACK")
        return self.suback[mid]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class WorkerThread:
    """An MQTT worker (anything with run, stop and a `connected` event) in a thread of
    the test process (either database)."""

    what = "the worker to subscribe"

    def __init__(self, worker):
        self.worker = worker
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.worker.run()
        except BaseException as error:
            self.error = error
        finally:
            connections.close_all()

    def start(self):
        self._thread.start()
        wait_until(self.worker.connected.is_set, what=self.what)
        return self

    def stop(self) -> None:
        self.worker.stop()
        self._thread.join(timeout=10)
        assert self.error is None, self.error


class IngestThread(WorkerThread):
    """mqtt_ingest's worker in a thread of the test process."""

    def __init__(self, client_id: str):
        super().__init__(TelemetryIngest(client_id=client_id))


class DeviceCommThread(WorkerThread):
    """mqtt_devicecomm's worker in a thread of the test process."""

    what = "the device communication worker to subscribe"

    def __init__(self, client_id: str):
        super().__init__(DeviceCommWorker(client_id=client_id))


class IngestProcess:
    """`manage.py mqtt_ingest` (or another MQTT worker command) as a real process on the
    test's PostgreSQL database."""

    def __init__(self, broker: Broker, client_id: str, log_path: Path, command: str = "mqtt_ingest"):
        self.broker, self.client_id, self.log_path, self.command = broker, client_id, log_path, command
        self.process: subprocess.Popen | None = None

    def start(self) -> IngestProcess:
        database = connection.settings_dict
        env = {
            **os.environ,
            "DEBUG": "1",
            "SECRET_KEY": django_settings.SECRET_KEY,
            "LOG_LEVEL": "INFO",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "MQTT_HOST": self.broker.host,
            "MQTT_PORT": str(self.broker.port),
            "MQTT_USERNAME": SERVER_USERNAME,
            "MQTT_PASSWORD": SERVER_PASSWORD,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", self.command, "--client-id", self.client_id],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(
            lambda: " subscribed to " in self.log() or self.process.poll() is not None,
            timeout=PROCESS_TIMEOUT,
            what="the worker",
        )
        assert self.process.poll() is None, self.log()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=20)


def mosquitto(command: str, broker, device, token: str, *args: str) -> subprocess.Popen:
    """mosquitto_pub or mosquitto_sub, MQTT 5 at QoS 1, logged in as the device."""
    return subprocess.Popen(
        [
            command,
            "-h",
            broker.host,
            "-p",
            str(broker.port),
            "-V",
            "5",
            "-q",
            "1",
            "-u",
            str(device.pk),
            "-P",
            token,
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
