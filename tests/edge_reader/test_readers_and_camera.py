"""The reader chosen by a calibration's kind, and the camera loop fed from image files."""

from __future__ import annotations

import sys
import types
from datetime import datetime

import cv2
import numpy as np
import pytest

from edge_reader.camera import CameraError, ImageFiles, open_source, run_camera_loop
from edge_reader.readers import read_image
from edge_reader.result import ReadError, Reading
from edge_reader.synthetic import GaugeStyle, Scene, calibration_for, draw_gauge

STYLE, SCENE = GaugeStyle(), Scene(size=(320, 240))
CALIBRATION = calibration_for(STYLE, SCENE)


def test_a_dial_is_read_by_the_gauge_reader_by_default():
    calibration = {key: value for key, value in CALIBRATION.items() if key != "kind"}
    assert read_image(draw_gauge(3.0, STYLE, SCENE), calibration).value == pytest.approx(3.0, abs=0.1)


def test_a_seven_segment_display_goes_to_the_display_reader(monkeypatch):
    calls = []

    def read_display(image, calibration):
        calls.append(calibration)
        return Reading(value=42.0, confidence=0.9, details={"text": "42"})

    monkeypatch.setitem(sys.modules, "edge_reader.display", types.SimpleNamespace(read_display=read_display))
    reading = read_image(np.zeros((10, 10), np.uint8), {"kind": "seven_segment", "roi": None})
    assert reading.value == 42.0 and calls == [{"kind": "seven_segment", "roi": None}]


def test_an_unknown_kind_is_a_read_error():
    with pytest.raises(ReadError, match="kind"):
        read_image(np.zeros((10, 10), np.uint8), {"kind": "thermometer"})


class ListSink:
    def __init__(self):
        self.readings: list[tuple[dict[str, float], datetime]] = []

    def enqueue(self, values, ts=None):
        self.readings.append((values, ts))

    def flush(self):
        return None


def write_frames(directory, values) -> None:
    for index, value in enumerate(values):
        frame = draw_gauge(value, STYLE, SCENE) if value is not None else np.full((240, 320, 3), 90, np.uint8)
        cv2.imwrite(str(directory / f"frame{index:03d}.png"), frame)


def test_the_loop_reads_every_frame_and_queues_the_values_in_order(tmp_path):
    write_frames(tmp_path, [1.0, None, 5.0, 9.5])
    sink = ListSink()
    stats = run_camera_loop(open_source(tmp_path), CALIBRATION, sink, interval=0, sensor="pressure")
    assert (stats.frames, stats.readings, stats.unreadable) == (4, 3, 1)
    values = [values["pressure"] for values, _ in sink.readings]
    assert values == pytest.approx([1.0, 5.0, 9.5], abs=0.1)
    assert all(ts.tzinfo is not None for _, ts in sink.readings)


def test_the_loop_keeps_its_pace_and_stops_after_max_frames(tmp_path):
    write_frames(tmp_path, [2.0, 3.0, 4.0])
    naps: list[float] = []
    stats = run_camera_loop(
        ImageFiles(tmp_path), CALIBRATION, ListSink(), interval=5, max_frames=2, sleep=naps.append, clock=lambda: 0.0
    )
    assert stats.frames == 2 and naps == [5.0]


def test_reads_below_the_confidence_floor_are_not_sent(tmp_path):
    write_frames(tmp_path, [2.0])
    sink = ListSink()
    stats = run_camera_loop(ImageFiles(tmp_path), CALIBRATION, sink, interval=0, min_confidence=1.01)
    assert stats.unsure == 1 and sink.readings == []


def test_a_value_that_jumps_too_far_is_reported_and_not_sent(tmp_path):
    from edge_reader.plausibility import PlausibilityFilter

    write_frames(tmp_path, [2.0, 2.5, 9.0, 3.0])
    sink = ListSink()
    stats = run_camera_loop(
        ImageFiles(tmp_path), CALIBRATION, sink, interval=0, plausibility=PlausibilityFilter(max_jump=2.0)
    )
    assert stats.implausible == 1
    assert [values["value"] for values, _ in sink.readings] == pytest.approx([2.0, 2.5, 3.0], abs=0.1)


def test_a_missing_source_is_a_camera_error(tmp_path):
    with pytest.raises(CameraError):
        ImageFiles(tmp_path / "nothing-here")
