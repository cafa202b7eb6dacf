"""The camera loop: grab a frame, read the gauge, queue the value for the server.

Frames come from a camera (picamera2 on a Raspberry Pi when it is installed, else
OpenCV `VideoCapture`), or, for tests and replays, from an image file, a directory of
images or a video file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from edge_reader.commands import CommandSource, LoopControl, handle_commands
from edge_reader.plausibility import PlausibilityFilter
from edge_reader.readers import read_image
from edge_reader.result import ReadError, Reading

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
FAILED_GRABS_BEFORE_REOPEN = 5


class CameraError(RuntimeError):
    """The camera gives no frames."""


class FrameSource(Protocol):
    def frames(self) -> Iterator[np.ndarray]: ...

    def close(self) -> None: ...


class ImageFiles:
    """Frames from an image file, or from every image in a directory in name order."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if path.is_dir():
            self.paths = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            self.paths = [path]
        else:
            raise CameraError(f"no such image file or directory: {path}")

    def frames(self) -> Iterator[np.ndarray]:
        for path in self.paths:
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is None:
                log.warning("skipping %s: not an image", path)
                continue
            yield frame

    def close(self) -> None:
        pass


class OpenCVCamera:
    """A USB or CSI camera, or a video file, through OpenCV."""

    def __init__(self, device: int | str):
        self.device = device
        self._capture = self._open()

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            raise CameraError(f"cannot open camera {self.device!r}")
        return capture

    def frames(self) -> Iterator[np.ndarray]:
        failures = 0
        while True:
            grabbed, frame = self._capture.read()
            if grabbed:
                failures = 0
                yield frame
                continue
            if isinstance(self.device, str):
                return  # the end of a video file
            failures += 1
            if failures >= FAILED_GRABS_BEFORE_REOPEN:
                log.warning("camera %s gives no frames; opening it again", self.device)
                self._capture.release()
                time.sleep(1.0)
                self._capture = self._open()
                failures = 0

    def close(self) -> None:
        self._capture.release()


class PiCamera:
    """The Raspberry Pi camera through picamera2."""

    def __init__(self, number: int, size: tuple[int, int] = (1280, 720)):
        from picamera2 import Picamera2  # only on a Raspberry Pi

        self._camera = Picamera2(camera_num=number)
        self._camera.configure(self._camera.create_still_configuration(main={"size": size, "format": "RGB888"}))
        self._camera.start()

    def frames(self) -> Iterator[np.ndarray]:
        while True:
            # picamera2's "RGB888" is laid out B, G, R in memory: OpenCV's order already.
            yield self._camera.capture_array()

    def close(self) -> None:
        self._camera.stop()
        self._camera.close()


def picamera2_available() -> bool:
    try:
        import picamera2  # noqa: F401
    except ImportError:
        return False
    return True


def open_camera(number: int) -> FrameSource:
    return PiCamera(number) if picamera2_available() else OpenCVCamera(number)


def open_source(source: str | Path) -> FrameSource:
    """Images (a file or a directory) or a video file, for tests and replays."""
    path = Path(source)
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFiles(path)
    return OpenCVCamera(str(path))


class ReadingSink(Protocol):
    def enqueue(self, values: dict[str, float], ts: datetime | None = None) -> None: ...

    def flush(self) -> Any: ...


@dataclass
class LoopStats:
    frames: int = 0
    readings: int = 0
    unreadable: int = 0
    unsure: int = 0
    implausible: int = 0


def run_camera_loop(
    source: FrameSource,
    calibration: dict[str, Any],
    client: ReadingSink,
    *,
    interval: float = 5.0,
    sensor: str = "value",
    min_confidence: float = 0.0,
    plausibility: PlausibilityFilter | None = None,
    max_frames: int | None = None,
    commands: CommandSource | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> LoopStats:
    """Read one frame every `interval` seconds and queue its value; runs until the frames end.

    A value that jumps further from the last one than `plausibility` allows is reported
    (logged and counted) as implausible and never sent as data. With `commands` (the
    server's, edge_reader/commands.py), the wait between frames ends when one arrives:
    it is applied at once, and may change the interval or calibration, or ask for a
    reading now."""
    stats = LoopStats()
    control = LoopControl(interval=interval, calibration=calibration)
    try:
        for frame in source.frames():
            started = clock()
            ts = datetime.now(UTC)  # the time the frame was taken, kept through any outage
            stats.frames += 1
            outcome = _read_into(frame, ts, control.calibration, client, sensor, min_confidence, plausibility, stats)
            client.flush()
            if commands is not None:
                _answer_readings(commands, control, outcome)
            if max_frames is not None and stats.frames >= max_frames:
                break
            if commands is None:
                sleep(max(0.0, control.interval - (clock() - started)))
            else:
                _wait_for_next_frame(commands, control, stats, started, clock)
    finally:
        source.close()
    return stats


def _wait_for_next_frame(
    commands: CommandSource, control: LoopControl, stats: LoopStats, started: float, clock: Callable[[], float]
) -> None:
    """Wait out the interval (as it stands: a command may change it), taking commands as
    they come; a command that asks for a reading ends the wait."""
    while True:
        if handle_commands(commands, control, stats.__dict__):
            return
        remaining = control.interval - (clock() - started)
        if remaining <= 0 or not commands.wait(remaining):
            return  # the interval has passed


def _answer_readings(commands: CommandSource, control: LoopControl, outcome: Reading | str) -> None:
    for command in control.awaiting_reading:
        answer = outcome.as_json() if isinstance(outcome, Reading) else {"error": outcome}
        if not command.oneway:
            commands.reply(command, answer)
    control.awaiting_reading.clear()


def _read_into(
    frame: np.ndarray,
    ts: datetime,
    calibration: dict[str, Any],
    client: ReadingSink,
    sensor: str,
    min_confidence: float,
    plausibility: PlausibilityFilter | None,
    stats: LoopStats,
) -> Reading | str:
    """The reading queued for the server, or why there is none."""
    try:
        reading = read_image(frame, calibration)
    except ReadError as error:
        stats.unreadable += 1
        log.warning("frame %d: %s", stats.frames, error)
        return str(error)
    if reading.confidence < min_confidence:
        stats.unsure += 1
        log.info("frame %d: confidence %.2f below %.2f, not sent", stats.frames, reading.confidence, min_confidence)
        return f"confidence {reading.confidence:.2f} below {min_confidence:.2f}"
    if plausibility is not None and not plausibility.check(reading.value):
        stats.implausible += 1
        log.warning(
            "frame %d: implausible reading %g (more than %g from %g), not sent",
            stats.frames,
            reading.value,
            plausibility.max_jump,
            plausibility.last_accepted,
        )
        return f"implausible reading {reading.value:g}"
    client.enqueue({sensor: reading.value}, ts)
    stats.readings += 1
    log.debug("frame %d: %s", stats.frames, reading.as_json())
    return reading
