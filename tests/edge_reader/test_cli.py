"""python -m edge_reader: one JSON line, exit 0 on a read and 2 when there is nothing to read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_reader.__main__ import main
from edge_reader.synthetic import GaugeStyle, Scene, calibration_for, draw_gauge
from tests.support.edge_server import TOKEN, ServerProcess

STYLE, SCENE = GaugeStyle(), Scene(size=(320, 240))
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def calibration_file(tmp_path: Path) -> Path:
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(calibration_for(STYLE, SCENE)))
    return path


def gauge_file(tmp_path: Path, value: float | None, name: str = "gauge.png") -> Path:
    path = tmp_path / name
    image = draw_gauge(value, STYLE, SCENE) if value is not None else np.full((240, 320, 3), 200, np.uint8)
    cv2.imwrite(str(path), image)
    return path


def run_cli(*args: str) -> tuple[int, list[dict]]:
    done = subprocess.run(
        [sys.executable, "-m", "edge_reader", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.processes  # python -m edge_reader
def test_read_prints_one_json_line_and_exits_0(tmp_path, calibration_file):
    code, lines = run_cli("read", str(gauge_file(tmp_path, 7.25)), "--calibration", str(calibration_file))
    assert code == 0 and len(lines) == 1
    assert set(lines[0]) == {"value", "angle", "learned_support", "confidence"}
    assert lines[0]["value"] == pytest.approx(7.25, abs=0.1)


def test_read_of_an_image_without_a_gauge_prints_the_error_and_exits_2(tmp_path, calibration_file, capsys):
    code = main(["read", str(gauge_file(tmp_path, None)), "--calibration", str(calibration_file)])
    assert code == 2
    assert json.loads(capsys.readouterr().out) == {"error": "no dial found: no round dial edge in the image"}


def test_read_with_a_bad_calibration_exits_2(tmp_path, capsys):
    calibration = tmp_path / "bad.json"
    calibration.write_text(json.dumps({"min_angle": 225, "max_angle": 495, "min_value": 0}))
    code = main(["read", str(gauge_file(tmp_path, 2.0)), "--calibration", str(calibration)])
    assert code == 2 and json.loads(capsys.readouterr().out) == {"error": "max_value: required"}


def test_calibrate_from_two_readings_writes_a_calibration_that_reads(tmp_path, capsys):
    low, high = gauge_file(tmp_path, 2.0, "low.png"), gauge_file(tmp_path, 8.0, "high.png")
    output = tmp_path / "made.json"
    code = main(
        [
            "calibrate",
            "--reading",
            f"{low}=2",
            "--reading",
            f"{high}=8",
            "--min-value",
            "0",
            "--max-value",
            "10",
            "--unit",
            "bar",
            "--output",
            str(output),
        ]
    )
    assert code == 0
    made = json.loads(output.read_text())
    assert json.loads(capsys.readouterr().out) == made
    assert made["min_angle"] == pytest.approx(225, abs=1.5) and made["max_angle"] == pytest.approx(495, abs=1.5)
    code = main(["read", str(gauge_file(tmp_path, 5.5, "mid.png")), "--calibration", str(output)])
    assert code == 0 and json.loads(capsys.readouterr().out.splitlines()[-1])["value"] == pytest.approx(5.5, abs=0.1)


def test_calibrate_from_ticks_finds_the_centre_in_the_image(tmp_path, capsys):
    # this dial: centre (160, 120), radius 96; min tick at 7:30, max tick at 4:30
    code = main(
        [
            "calibrate",
            str(gauge_file(tmp_path, 1.0)),
            "--min-tick",
            "92,188",
            "--max-tick",
            "228,188",
            "--min-value",
            "0",
            "--max-value",
            "10",
        ]
    )
    made = json.loads(capsys.readouterr().out)
    assert code == 0 and made["center"] == pytest.approx([160, 120], abs=1.5)
    assert made["min_angle"] == pytest.approx(225, abs=1) and made["max_angle"] == pytest.approx(495, abs=1)


def test_run_sends_what_it_reads_to_the_server(tmp_path, calibration_file, telemetry_server: ServerProcess, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    for index, value in enumerate([1.5, 4.5]):
        gauge_file(frames, value, f"{index}.png")
    qr = tmp_path / "qr.json"
    qr.write_text(json.dumps({"server": telemetry_server.url, "device": 7, "token": TOKEN}))
    code = main(
        [
            "run",
            "--qr",
            str(qr),
            "--calibration",
            str(calibration_file),
            "--source",
            str(frames),
            "--interval",
            "0",
            "--buffer",
            str(tmp_path / "buffer.sqlite3"),
            "--sensor",
            "pressure",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["pending"] == 0
    stored = telemetry_server.stored()
    assert [sensor for _, sensor, _ in stored] == ["pressure", "pressure"]
    assert [value for *_, value in stored] == pytest.approx([1.5, 4.5], abs=0.1)


def test_run_with_max_jump_reports_an_implausible_value_and_does_not_send_it(
    tmp_path, calibration_file, telemetry_server: ServerProcess, capsys
):
    frames = tmp_path / "frames"
    frames.mkdir()
    for index, value in enumerate([1.5, 9.5, 2.0]):
        gauge_file(frames, value, f"{index}.png")
    code = main(
        [
            "run",
            "--server",
            telemetry_server.url,
            "--token",
            TOKEN,
            "--calibration",
            str(calibration_file),
            "--source",
            str(frames),
            "--interval",
            "0",
            "--buffer",
            str(tmp_path / "buffer.sqlite3"),
            "--max-jump",
            "3",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["implausible"] == 1
    assert [value for *_, value in telemetry_server.stored()] == pytest.approx([1.5, 2.0], abs=0.1)


def test_a_bad_max_jump_is_an_error(tmp_path, calibration_file, capsys):
    code = main(
        [
            "run",
            "--server",
            "http://127.0.0.1:9",
            "--token",
            TOKEN,
            "--calibration",
            str(calibration_file),
            "--source",
            str(tmp_path),
            "--max-jump",
            "-1",
        ]
    )
    assert code == 2 and "max_jump" in json.loads(capsys.readouterr().out)["error"]


def test_run_without_credentials_is_an_error(tmp_path, calibration_file, capsys):
    code = main(["run", "--calibration", str(calibration_file), "--source", str(tmp_path)])
    assert code == 2 and "token" in json.loads(capsys.readouterr().out)["error"]


def test_read_with_overlay_draws_what_the_reader_found(tmp_path, calibration_file, capsys):
    overlay = tmp_path / "seen.png"
    image = gauge_file(tmp_path, 4.0)
    code = main(["read", str(image), "--calibration", str(calibration_file), "--overlay", str(overlay)])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0 and printed["overlay"] == str(overlay)
    drawn, original = cv2.imread(str(overlay)), cv2.imread(str(image))
    assert drawn.shape == original.shape
    # The pointer is drawn in pure red along the needle's angle.
    red = (drawn[..., 2] > 200) & (drawn[..., 1] < 60) & (drawn[..., 0] < 60)
    assert red.sum() > 50


def test_read_with_overlay_of_an_unreadable_image_still_writes_it_with_the_reason(tmp_path, calibration_file, capsys):
    overlay = tmp_path / "seen.png"
    code = main(
        ["read", str(gauge_file(tmp_path, None)), "--calibration", str(calibration_file), "--overlay", str(overlay)]
    )
    assert code == 2 and "error" in json.loads(capsys.readouterr().out)
    assert cv2.imread(str(overlay)).shape == (240, 320, 3)


def test_read_with_overlay_of_a_display_draws_its_panel(tmp_path, capsys):
    from edge_reader.synthetic_display import Camera, draw_display

    drawn = draw_display("12.5", camera=Camera(size=(640, 480), panel_width=0.6))
    image, calibration = tmp_path / "display.png", tmp_path / "display.json"
    cv2.imwrite(str(image), drawn.image)
    calibration.write_text(json.dumps({"kind": "seven_segment"}))
    overlay = tmp_path / "seen.png"
    assert main(["read", str(image), "--calibration", str(calibration), "--overlay", str(overlay)]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "12.5"
    assert not np.array_equal(cv2.imread(str(overlay)), drawn.image)


def test_run_stops_its_sending_thread_when_the_camera_loop_fails(tmp_path, calibration_file, monkeypatch):
    """A loop that fails (a camera unplugged) must not leave the sending thread working on
    the buffer the client then closes."""
    import threading

    import edge_reader.camera

    def unplugged(*args, **kwargs):
        raise OSError("camera gone")

    monkeypatch.setattr(edge_reader.camera, "run_camera_loop", unplugged)
    frames = tmp_path / "frames"
    frames.mkdir()
    gauge_file(frames, 1.5, "0.png")
    arguments = ["run", "--server", "http://127.0.0.1:9", "--token", TOKEN, "--calibration", str(calibration_file)]
    arguments += ["--source", str(frames), "--buffer", str(tmp_path / "buffer.sqlite3")]
    with pytest.raises(OSError, match="camera gone"):
        main(arguments)
    assert not [thread for thread in threading.enumerate() if thread.name == "telemetry-sender"]
