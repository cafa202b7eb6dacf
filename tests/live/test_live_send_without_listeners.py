"""live_send from a process no browser is connected to."""


def test_nothing_is_sent_when_no_connection_of_this_process_listens(monkeypatch):
    """An in-memory layer reaches only this process's connections: a WSGI worker or a
    command has none, and must not pay for an event loop per batch."""
    from channels.layers import InMemoryChannelLayer

    from live import push as live

    monkeypatch.setattr(live, "get_channel_layer", InMemoryChannelLayer)  # no earlier test's groups
    calls = []
    monkeypatch.setattr(live, "async_to_sync", lambda function: calls.append(function))
    live.live_send(user_id=1, device_id=2, message={"type": "reading"})
    assert calls == []


def test_a_batch_nobody_watches_is_not_even_formatted(monkeypatch, device):
    from datetime import UTC, datetime

    from channels.layers import InMemoryChannelLayer

    from live import push as live
    from telemetry.payloads import ParsedReading

    # A layer of its own: earlier tests may have left members in the shared one's groups.
    monkeypatch.setattr(live, "get_channel_layer", InMemoryChannelLayer)
    built = []
    monkeypatch.setattr(live, "readings_message", lambda **kwargs: built.append(kwargs) or {})
    live.readings_push(device, [ParsedReading("t", datetime(2026, 1, 1, tzinfo=UTC), 1.0)])
    assert built == []
