"""/ws/live/demo/: public demo signals, sent as often as the browser asks."""

from __future__ import annotations

import pytest

from live import demo as live_demo
from tests.support.live import RECEIVE_TIMEOUT, connected, in_own_loop

# The demo reads no table, but channels closes stale connections after each message.
pytestmark = pytest.mark.django_db


@in_own_loop
async def test_anyone_gets_the_cosine_and_the_noisy_sine_with_a_backlog():
    communicator = await connected(path="/ws/live/demo/")
    message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert message["type"] == "demo"
    sensors = {reading["sensor"] for reading in message["readings"]}
    assert sensors == {"cosine", "noisy_sine"}
    # The backlog fills the plot at once: about BACKLOG_SECONDS of points.
    assert len(message["readings"]) >= 2 * 0.9 * live_demo.BACKLOG_SECONDS / live_demo.SAMPLE_PERIOD
    await communicator.disconnect()


@in_own_loop
async def test_a_new_rate_is_acknowledged_and_used_at_once():
    communicator = await connected(path="/ws/live/demo/")
    await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)  # the backlog
    await communicator.send_json_to({"action": "rate", "interval": 0.05})
    answers = [await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT) for _ in range(4)]
    assert {"type": "rate", "interval": 0.05} in answers
    assert answers[-1]["type"] == "demo" and answers[-1]["interval"] == 0.05
    await communicator.disconnect()


@in_own_loop
@pytest.mark.parametrize("interval", [0.01, 6, "1", None, True])
async def test_a_rate_out_of_range_gets_an_error_naming_the_field(interval):
    communicator = await connected(path="/ws/live/demo/")
    await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    await communicator.send_json_to({"action": "rate", "interval": interval})
    answer = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    while answer["type"] == "demo":
        answer = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert answer == {"type": "error", "field": "interval", "detail": "A number of seconds from 0.05 to 5.0."}
    await communicator.disconnect()


@in_own_loop
async def test_the_sampling_task_stops_when_the_last_watcher_leaves():
    first = await connected(path="/ws/live/demo/")
    second = await connected(path="/ws/live/demo/")
    await first.receive_json_from(timeout=RECEIVE_TIMEOUT)
    await second.receive_json_from(timeout=RECEIVE_TIMEOUT)
    task = live_demo.demo_signals.task
    await first.disconnect()
    assert not task.done()
    await second.disconnect()
    assert live_demo.demo_signals.task is None and live_demo.demo_signals.watchers == 0
