"""The device client against a real server process that dies and comes back mid-stream."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from edge_reader.client import BackgroundSender, Backoff, ReadingBuffer, TelemetryClient, utc_iso
from tests.support.edge_server import TOKEN, ServerProcess

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
QUICK_RETRIES = Backoff(first=0.02, longest=0.1)


def reading_ts(index: int) -> datetime:
    return START + timedelta(seconds=index)


def client_for(server: ServerProcess, buffer: Path, **options) -> TelemetryClient:
    return TelemetryClient(
        server.url,
        TOKEN,
        buffer,
        batch_size=options.pop("batch_size", 7),
        timeout=2.0,
        backoff=QUICK_RETRIES,
        **options,
    )


def expected(indices) -> list[tuple[str, str, float]]:
    return [(utc_iso(reading_ts(i)), "pressure", float(i)) for i in indices]


def test_every_reading_arrives_once_in_order_across_server_restarts_and_a_device_reboot(
    telemetry_server: ServerProcess, tmp_path: Path
):
    buffer = tmp_path / "buffer.sqlite3"
    client = client_for(telemetry_server, buffer)
    for i in range(20):
        client.enqueue({"pressure": float(i)}, reading_ts(i))
        if i % 3 == 0:
            client.flush()

    telemetry_server.kill()
    for i in range(20, 45):
        client.enqueue({"pressure": float(i)}, reading_ts(i))
        client.flush()  # fails: the readings wait on disk
    assert client.pending() > 25

    client.close()  # the device reboots while the server is still down
    client = client_for(telemetry_server, buffer)
    for i in range(45, 50):
        client.enqueue({"pressure": float(i)}, reading_ts(i))

    telemetry_server.start()
    assert client.drain(timeout=20)
    client.close()
    assert telemetry_server.stored() == expected(range(50))


def test_a_batch_whose_answer_was_lost_is_stored_once(flaky_telemetry_server: ServerProcess, tmp_path: Path):
    client = client_for(flaky_telemetry_server, tmp_path / "buffer.sqlite3", batch_size=3)
    for i in range(40):
        client.enqueue({"pressure": float(i)}, reading_ts(i))
        client.flush()
        if i == 25:
            flaky_telemetry_server.kill()
            flaky_telemetry_server.start()
    assert client.drain(timeout=20)
    client.close()
    assert flaky_telemetry_server.stored() == expected(range(40))


def test_readings_enqueued_survive_without_any_send(tmp_path: Path):
    buffer_path = tmp_path / "buffer.sqlite3"
    buffer = ReadingBuffer(buffer_path)
    buffer.add({"pressure": 1.5, "temperature": 20.0}, START)
    buffer.close()

    reopened = ReadingBuffer(buffer_path)
    batch = reopened.next_batch(10)
    assert reopened.pending() == 2
    assert json.loads(batch.body) == [
        {"ts": "2026-03-01T12:00:00.000Z", "values": {"pressure": 1.5, "temperature": 20.0}}
    ]


def test_a_retry_sends_the_same_body_under_the_same_key(tmp_path: Path):
    seen: list[tuple[str, bytes]] = []

    def unavailable(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers["Idempotency-Key"], request.content))
        return httpx.Response(503 if len(seen) == 1 else 201, json={"accepted": 1})

    client = TelemetryClient(
        "http://server",
        TOKEN,
        tmp_path / "b.sqlite3",
        backoff=QUICK_RETRIES,
        http=httpx.Client(transport=httpx.MockTransport(unavailable)),
    )
    client.enqueue({"pressure": 1.0}, START)
    assert client.drain(timeout=5)
    assert len(seen) == 2 and seen[0] == seen[1]


def test_data_the_server_refuses_goes_to_the_dead_letter_table_and_the_rest_flows(tmp_path: Path, caplog):
    answers = iter(
        [
            httpx.Response(400, json={"index": 0, "field": "ts", "detail": "in the future"}),
            httpx.Response(201, json={"accepted": 1}),
        ]
    )
    client = TelemetryClient(
        "http://server",
        TOKEN,
        tmp_path / "b.sqlite3",
        batch_size=1,
        http=httpx.Client(transport=httpx.MockTransport(lambda request: next(answers))),
    )
    client.enqueue({"pressure": 1.0}, START)
    client.enqueue({"pressure": 2.0}, START + timedelta(seconds=1))
    with caplog.at_level(logging.ERROR, logger="edge_reader.client"):
        result = client.flush()
    assert (result.sent, result.refused, result.pending) == (1, 1, 0)
    [dead] = client.buffer.dead_letters()
    assert dead["status"] == 400 and dead["body"][0]["values"] == {"pressure": 1.0}
    assert "refused" in caplog.text


def test_the_client_waits_out_its_backoff_between_attempts(tmp_path: Path):
    now = [100.0]
    attempts: list[float] = []

    def down(request: httpx.Request) -> httpx.Response:
        attempts.append(now[0])
        return httpx.Response(503)

    client = TelemetryClient(
        "http://server",
        TOKEN,
        tmp_path / "b.sqlite3",
        backoff=Backoff(first=1, longest=8),
        clock=lambda: now[0],
        http=httpx.Client(transport=httpx.MockTransport(down)),
    )
    client.enqueue({"pressure": 1.0}, START)
    for _ in range(60):
        client.flush()
        now[0] += 0.5
    gaps = [later - earlier for earlier, later in zip(attempts, attempts[1:], strict=False)]
    assert len(attempts) < 12
    assert gaps[-1] >= 4  # grown from about 1 s towards the 8 s ceiling


def test_values_that_can_never_be_stored_are_refused_at_once(tmp_path: Path):
    buffer = ReadingBuffer(tmp_path / "b.sqlite3")
    for bad in ({"pressure": float("nan")}, {"pressure": "high"}, {"": 1.0}, {}):
        try:
            buffer.add(bad, START)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")
    assert buffer.pending() == 0


def test_only_the_item_the_server_names_is_dead_lettered_and_the_others_go_again(tmp_path: Path):
    stored: list[dict] = []

    def refuse_value_two(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)
        for index, item in enumerate(items):
            if item["values"]["pressure"] == 2.0:
                return httpx.Response(400, json={"index": index, "field": "ts", "detail": "in the future"})
        stored.extend(items)
        return httpx.Response(201, json={"accepted": len(items)})

    client = TelemetryClient(
        "http://server",
        TOKEN,
        tmp_path / "b.sqlite3",
        batch_size=10,
        http=httpx.Client(transport=httpx.MockTransport(refuse_value_two)),
    )
    for i in range(5):
        client.enqueue({"pressure": float(i)}, reading_ts(i))
    result = client.flush()
    assert (result.sent, result.refused, result.pending) == (4, 1, 0)
    assert [item["values"]["pressure"] for item in stored] == [0.0, 1.0, 3.0, 4.0]
    assert [item["ts"] for item in stored] == [utc_iso(reading_ts(i)) for i in (0, 1, 3, 4)]
    [dead] = client.buffer.dead_letters()
    assert dead["body"] == [{"ts": utc_iso(reading_ts(2)), "values": {"pressure": 2.0}}]


def test_the_background_sender_delivers_while_the_caller_only_enqueues(telemetry_server: ServerProcess, tmp_path: Path):
    client = client_for(telemetry_server, tmp_path / "buffer.sqlite3")
    sender = BackgroundSender(client, idle_wait=0.05).start()
    for i in range(10):
        sender.enqueue({"pressure": float(i)}, reading_ts(i))
    telemetry_server.kill()
    for i in range(10, 20):
        sender.enqueue({"pressure": float(i)}, reading_ts(i))
    telemetry_server.start()
    assert sender.stop(drain_timeout=20)
    client.close()
    assert telemetry_server.stored() == expected(range(20))
