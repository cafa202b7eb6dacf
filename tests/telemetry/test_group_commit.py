"""Group commit: concurrent requests stored in one transaction, each answered on its own.

The writer's window is stretched here (hundreds of milliseconds) so that requests
started together surely land in one group; what is checked is the meaning of each
answer, never the speed. PostgreSQL only: on SQLite every request is stored inline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from rest_framework.test import APIClient

from devices.models import Device
from devices.services import device_create
from telemetry import group_commit, hooks
from telemetry.models import IdempotencyRecord, Reading
from telemetry.payloads import ParsedReading, PayloadError
from telemetry.services import IngestEntry, IngestResult, body_sha256

ON_POSTGRESQL = django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ON_POSTGRESQL, reason="group commit is PostgreSQL's; SQLite stores inline"),
]

T0 = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def writer(settings):
    """A writer whose window is long enough for a handful of threads to share it."""
    settings.TELEMETRY_GROUP_COMMIT = True
    settings.TELEMETRY_GROUP_COMMIT_WINDOW_MS = 400
    group_commit.writer_stop()
    yield group_commit.writer()
    group_commit.writer_stop()


@pytest.fixture
def devices(user):
    return [device_create(owner=user, name=f"Device {i}", type="generic")[0] for i in range(3)]


def together(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads started at once; their results or exceptions, in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        try:
            return call()
        except Exception as error:
            return error
        finally:
            connection.close()  # this thread's own connection, if it opened one

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def entry(device, *readings: tuple[str, int, float], key: str | None = None, body: bytes = b"") -> IngestEntry:
    parsed = [ParsedReading(sensor, T0.replace(second=second), value) for sensor, second, value in readings]
    return IngestEntry(device, parsed, T0, key, body_sha256(body) if key else None)


def stored(device) -> list[tuple[str, int, float]]:
    rows = Reading.objects.filter(sensor__device=device).select_related("sensor").order_by("sensor__key", "ts")
    return [(r.sensor.key, r.ts.second, r.value) for r in rows]


def test_requests_that_arrive_together_are_stored_in_one_group(writer, devices):
    results = together([lambda d=d: writer.submit(entry(d, ("t", 1, 1.0), ("u", 1, 2.0))) for d in devices])
    assert results == [IngestResult(accepted=2, duplicates=0)] * 3
    assert (writer.groups, writer.entries) == (1, 3)
    assert all(stored(d) == [("t", 1, 1.0), ("u", 1, 2.0)] for d in devices)
    assert all(d.sensors.get(key="t").reading_count == 1 for d in devices)
    assert all(Device.objects.get(pk=d.pk).last_seen_at == T0 for d in devices)


def test_an_entry_the_database_refuses_fails_alone_and_stores_nothing(writer, devices):
    gone = Device(pk=devices[-1].pk + 1000, owner=devices[0].owner, name="deleted meanwhile")
    good, bad = devices[0], gone
    results = together(
        [
            lambda: writer.submit(entry(good, ("t", 1, 1.0))),
            lambda: writer.submit(entry(bad, ("t", 1, 1.0))),
            lambda: writer.submit(entry(devices[1], ("t", 2, 2.0))),
        ]
    )
    assert results[0] == results[2] == IngestResult(accepted=1, duplicates=0)
    assert isinstance(results[1], Exception)
    assert stored(good) == [("t", 1, 1.0)] and stored(devices[1]) == [("t", 2, 2.0)]
    assert Reading.objects.count() == 2


def test_the_first_value_across_a_group_is_the_earlier_request(writer, devices):
    device = devices[0]
    first = writer.submit  # the first request of the group goes in alone, to fix the order
    results = together(
        [
            lambda: first(entry(device, ("t", 1, 1.0))),
            lambda: writer.submit(entry(device, ("t", 1, 9.0), ("t", 2, 2.0))),
        ]
    )
    duplicates = sorted(result.duplicates for result in results)
    assert duplicates == [0, 1]
    # Whichever request came first in the group, exactly one value stands for t@1,
    # and the request answered duplicates=0 is the one whose value it is.
    (value_at_1,) = [v for key, second, v in stored(device) if second == 1]
    winner = results[0] if results[0].duplicates == 0 else results[1]
    assert value_at_1 == (1.0 if winner.accepted == 1 else 9.0)
    assert device.sensors.get().reading_count == 2


def test_a_duplicate_in_a_later_request_of_the_same_group_is_counted_as_one(writer, devices):
    device = devices[0]
    results = together([lambda: writer.submit(entry(device, ("t", 1, 1.0))) for _ in range(4)])
    assert writer.groups == 1
    assert sorted(result.duplicates for result in results) == [0, 1, 1, 1]
    assert stored(device) == [("t", 1, 1.0)]
    assert device.sensors.get().reading_count == 1


def test_an_idempotency_key_retried_inside_one_group_is_stored_once(writer, devices):
    device = devices[0]
    same = entry(device, ("t", 1, 1.0), ("t", 2, 2.0), key="k1", body=b"body")
    results = together([lambda: writer.submit(same) for _ in range(3)])
    assert writer.groups == 1
    assert results == [IngestResult(accepted=2, duplicates=0)] * 3
    assert stored(device) == [("t", 1, 1.0), ("t", 2, 2.0)]
    assert IdempotencyRecord.objects.get().response == {"accepted": 2, "duplicates": 0}
    # A retry in a later group is answered from the record.
    assert writer.submit(same) == IngestResult(accepted=2, duplicates=0)
    assert Reading.objects.count() == 2


def test_hooks_run_per_request_alerts_in_the_transaction_live_after_the_commit(writer, devices):
    in_transaction, after_commit = [], []

    def evaluate(device, readings):
        in_transaction.append((device.pk, [r.value for r in readings], connection.in_atomic_block))

    def push(device, readings):
        with psycopg.connect(_database_url()) as other:  # another session sees it committed
            count = other.execute(
                "SELECT count(*) FROM telemetry_reading r JOIN telemetry_sensor s ON s.id = r.sensor_id "
                "WHERE s.device_id = %s",
                (device.pk,),
            ).fetchone()[0]
        after_commit.append((device.pk, [r.value for r in readings], count))

    hooks.on_readings_stored(evaluate, in_transaction=True)
    hooks.on_readings_stored(push)
    try:
        together([lambda d=d, i=i: writer.submit(entry(d, ("t", 1, float(i)))) for i, d in enumerate(devices)])
    finally:
        hooks._in_transaction.remove(evaluate)
        hooks._after_commit.remove(push)
    assert writer.groups == 1
    assert sorted(in_transaction) == [(d.pk, [float(i)], True) for i, d in enumerate(devices)]
    assert sorted(after_commit) == [(d.pk, [float(i)], 1) for i, d in enumerate(devices)]


def test_an_answer_is_never_given_before_the_commit(writer, devices):
    def submit_then_look(device):
        result = writer.submit(entry(device, ("t", 1, 1.0)))
        with psycopg.connect(_database_url()) as other:
            seen = other.execute(
                "SELECT count(*) FROM telemetry_reading r JOIN telemetry_sensor s ON s.id = r.sensor_id "
                "WHERE s.device_id = %s",
                (device.pk,),
            ).fetchone()[0]
        return result, seen

    results = together([lambda d=d: submit_then_look(d) for d in devices])
    assert results == [(IngestResult(accepted=1, duplicates=0), 1)] * 3


def test_concurrent_http_requests_each_get_their_own_answer(settings, user):
    # Through Django a request takes a while to reach the writer on a busy machine: a
    # window of seconds makes sure the four share it.
    settings.TELEMETRY_GROUP_COMMIT_WINDOW_MS = 3000
    group_commit.writer_stop()
    writer = group_commit.writer()
    pairs = [device_create(owner=user, name=f"Posting {i}", type="generic") for i in range(4)]

    def post(token: str, body: str):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
        response = client.post("/api/telemetry/", body, content_type="application/json")
        return response.status_code, response.json()

    bodies = ['{"ts": "2026-02-01T00:00:01Z", "values": {"t": 1}}'] * 3 + ['{"t": "not a number"}']
    results = together([lambda t=token, b=body: post(t, b) for (_, token), body in zip(pairs, bodies, strict=True)])
    assert [status for status, _ in results] == [201, 201, 201, 400]
    assert results[0][1] == {"accepted": 1, "duplicates": 0}
    assert writer.groups == 1 and writer.entries == 3
    assert [len(stored(device)) for device, _ in pairs] == [1, 1, 1, 0]


def test_inside_a_transaction_a_request_is_stored_inline(settings, devices):
    from django.db import transaction

    settings.TELEMETRY_GROUP_COMMIT = True
    with transaction.atomic():
        assert not group_commit.grouping()
        group_commit.ingest(entry(devices[0], ("t", 1, 1.0)))
    assert stored(devices[0]) == [("t", 1, 1.0)]


def _database_url() -> str:
    params = connections["default"].get_connection_params()
    return psycopg.conninfo.make_conninfo(
        **{k: v for k, v in params.items() if k in {"dbname", "user", "host", "port", "password"}}
    )


def test_a_key_reused_for_another_body_in_the_same_group_is_422_for_that_request_only(writer, devices):
    results = together(
        [
            lambda: writer.submit(entry(devices[0], ("t", 1, 1.0), key="k", body=b"a")),
            lambda: writer.submit(entry(devices[0], ("t", 2, 2.0), key="k", body=b"b")),
        ]
    )
    assert writer.groups == 1
    answers = {"422" if isinstance(r, PayloadError) and r.status == 422 else r for r in results}
    assert answers == {IngestResult(accepted=1, duplicates=0), "422"}
    assert len(stored(devices[0])) == 1
