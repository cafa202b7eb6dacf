"""The MQTT worker waits out a database that is away (a failover) with the batch
unacknowledged, and stores it once the database is back, without restarting."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from telemetry.mqtt import TelemetryIngest


@pytest.fixture
def worker(monkeypatch):
    ingest = TelemetryIngest(client_id="iotsite-ingest-away")
    monkeypatch.setattr(ingest._stop, "wait", lambda seconds: False)  # no real sleeping
    return ingest


def test_a_batch_is_tried_again_until_the_database_is_back(worker, monkeypatch):
    tries = []

    def store_and_ack(messages):
        tries.append(messages)
        if len(tries) < 3:
            raise OperationalError("connection to server failed: session is read-only")

    monkeypatch.setattr(worker, "store_and_ack", store_and_ack)
    worker._store_until_done(["message"])
    assert tries == [["message"]] * 3
    assert worker.counts.database_waits == 2


def test_stopping_while_the_database_is_away_leaves_the_batch_to_the_broker(worker, monkeypatch):
    def store_and_ack(messages):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(worker, "store_and_ack", store_and_ack)
    worker.stop()
    with pytest.raises(OperationalError):
        worker._store_until_done(["message"])
