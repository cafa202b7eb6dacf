"""A real Mosquitto per test, started from deploy/mosquitto/mosquitto.conf on a spare
port, real MQTT clients, and mqtt_ingest workers in a thread or as processes (helpers in
tests/support/mqtt.py and tests/support/mqtt_broker.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from django.db import connection

from devices.services import device_create

# PROCESS_TIMEOUT, wait_handled and wait_until are only re-exported, for tests on other
# branches that still import them from here.
from tests.support.mqtt import (  # noqa: F401
    PROCESS_TIMEOUT,
    DeviceClient,
    DeviceCommThread,
    IngestProcess,
    IngestThread,
    wait_handled,
    wait_until,
)
from tests.support.mqtt_broker import SERVER_PASSWORD, SERVER_USERNAME, Broker, broker_start


@pytest.fixture
def broker(tmp_path) -> Iterator[Broker]:
    if not shutil.which("mosquitto") and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("Debian's mosquitto is not installed (make test installs it)")
    running = broker_start(tmp_path / "broker")
    yield running
    running.stop()


@pytest.fixture
def mqtt_settings(settings, broker):
    settings.MQTT_HOST = broker.host
    settings.MQTT_PORT = broker.port
    settings.MQTT_USERNAME = SERVER_USERNAME
    settings.MQTT_PASSWORD = SERVER_PASSWORD
    settings.MQTT_DYNSEC_ENABLED = True
    return settings


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what the block left for after the commit, as a real
    commit would, in tests that run inside one rolled-back transaction (fast)."""
    return partial(django_capture_on_commit_callbacks, execute=True)


@pytest.fixture
def mqtt_device_and_token(user, mqtt_settings, committed):
    with committed():  # the credentials reach the broker after the commit
        return device_create(owner=user, name="Pump", type="generic")


@pytest.fixture
def mqtt_device(mqtt_device_and_token):
    return mqtt_device_and_token[0]


@pytest.fixture
def mqtt_token(mqtt_device_and_token):
    return mqtt_device_and_token[1]


@pytest.fixture
def connect_device(broker) -> Iterator[Callable[..., DeviceClient]]:
    clients: list[DeviceClient] = []

    def connect(device_id: int | str, token: str | None, *, client_id: str = "") -> DeviceClient:
        client = DeviceClient(broker, username=str(device_id), password=token, client_id=client_id)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def ingest_thread(mqtt_settings) -> Iterator[Callable[..., IngestThread]]:
    threads: list[IngestThread] = []

    def start(client_id: str = "iotsite-ingest-test") -> IngestThread:
        thread = IngestThread(client_id).start()
        threads.append(thread)
        return thread

    yield start
    for thread in threads:
        thread.stop()


@pytest.fixture
def ingest_process(broker, mqtt_settings, tmp_path) -> Iterator[Callable[..., IngestProcess]]:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a database other processes can share: run with DATABASE_URL=postgres://...")
    processes: list[IngestProcess] = []

    def start(client_id: str, command: str = "mqtt_ingest") -> IngestProcess:
        # A log file per start: a restarted worker's "connected" line must be its own.
        log_path = tmp_path / f"{client_id}-{len(processes)}.log"
        process = IngestProcess(broker, client_id, log_path, command).start()
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait()


@pytest.fixture
def devicecomm_thread(mqtt_settings) -> Iterator[Callable[..., DeviceCommThread]]:
    threads: list[DeviceCommThread] = []

    def start(client_id: str = "iotsite-devicecomm-test") -> DeviceCommThread:
        thread = DeviceCommThread(client_id).start()
        threads.append(thread)
        return thread

    yield start
    for thread in threads:
        thread.stop()
