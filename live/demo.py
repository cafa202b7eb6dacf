"""The live demo's signals: a cosine and a noisy sine, sampled by one background task
per server process while anyone watches.

Points are taken every SAMPLE_PERIOD whatever rate the browsers ask for; a browser's
rate only sets how often it is sent the points taken since the last send. The task
keeps the last BACKLOG_SECONDS of points and stops when the last watcher leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from telemetry.selectors import iso_utc as telemetry_iso_utc

SAMPLE_PERIOD = 0.05  # seconds: the fastest refresh the page offers
COSINE_PERIOD = 10.0  # seconds
SINE_PERIOD = 23.0
BACKLOG_SECONDS = 30.0  # what a browser gets on connecting; more than the longest interval
MIN_INTERVAL = 0.05
MAX_INTERVAL = 5.0
DEFAULT_INTERVAL = 0.25


def cosine(t: float) -> float:
    return math.cos(2 * math.pi * t / COSINE_PERIOD)


def noisy_sine(t: float) -> float:
    return 0.6 * math.sin(2 * math.pi * t / SINE_PERIOD) + random.gauss(0, 0.05)


def iso_utc(t: float) -> str:
    return telemetry_iso_utc(datetime.fromtimestamp(t, tz=UTC))


class DemoSignals:
    def __init__(self) -> None:
        self.points: deque[tuple[float, float, float]] = deque(maxlen=int(BACKLOG_SECONDS / SAMPLE_PERIOD))
        self.watchers = 0
        self.task: asyncio.Task | None = None

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[DemoSignals]:
        self.watchers += 1
        if self.task is None or self.task.done():
            self.backfill()
            self.task = asyncio.create_task(self.sample())
        try:
            yield self
        finally:
            self.watchers -= 1
            if self.watchers == 0 and self.task is not None:
                self.task.cancel()
                self.task = None

    def backfill(self) -> None:
        # The signals are functions of time: a first watcher sees a full window at once.
        now = time.time()
        start = now - BACKLOG_SECONDS
        self.points.clear()
        for step in range(int(BACKLOG_SECONDS / SAMPLE_PERIOD)):
            t = start + step * SAMPLE_PERIOD
            self.points.append((t, cosine(t), noisy_sine(t)))

    async def sample(self) -> None:
        next_at = time.monotonic()
        while True:
            t = time.time()
            self.points.append((t, cosine(t), noisy_sine(t)))
            # Steady cadence: sleep to the next slot rather than a fixed period after this one.
            next_at = max(next_at + SAMPLE_PERIOD, time.monotonic())
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def readings_since(self, since: float) -> tuple[list[dict], float]:
        """The points taken after `since`, as readings, and the time of the last one."""
        readings = []
        last = since
        for t, cosine_value, sine_value in self.points:
            if t > since:
                ts = iso_utc(t)
                readings.append({"sensor": "cosine", "ts": ts, "value": round(cosine_value, 5)})
                readings.append({"sensor": "noisy_sine", "ts": ts, "value": round(sine_value, 5)})
                last = t
        return readings, last


demo_signals = DemoSignals()
