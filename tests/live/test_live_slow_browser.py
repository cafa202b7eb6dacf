"""A browser that does not read costs a bounded queue, never the channel layer's memory."""

from __future__ import annotations

import asyncio

from live.consumers import LiveConsumer
from tests.support.live import in_own_loop


class StalledSocket:
    """Stands for a browser that stopped reading: every send waits until released."""

    def __init__(self):
        self.sent: list[dict] = []
        self.release = asyncio.Event()

    async def __call__(self, message):
        await self.release.wait()
        self.sent.append(message)


@in_own_loop
async def test_pushes_past_the_queue_are_dropped_and_counted_to_the_browser(settings):
    settings.LIVE_CLIENT_QUEUE = 3
    consumer = LiveConsumer()
    socket = StalledSocket()
    consumer.base_send = socket
    await consumer.start_outbox()
    consumer.all_devices = True
    for number in range(10):
        await consumer.live_user({"type": "live.user", "device": 1, "text": f'{{"n": {number}}}'})
    # Three wait in the queue; the seven pushed while it was full are dropped.
    assert consumer.dropped == 7
    socket.release.set()
    for _ in range(20):
        await asyncio.sleep(0.01)
        if len(socket.sent) == 4:
            break
    texts = [message["text"] for message in socket.sent]
    assert texts == ['{"n": 0}', '{"n": 1}', '{"n": 2}', '{"type": "dropped", "count": 7}']
    await consumer.stop_outbox()
