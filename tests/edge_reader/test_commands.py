"""The camera loop takes the server's commands between frames: with a stand-in command
source, and end to end with the real poller against the real server's device API."""

from __future__ import annotations

import threading
import time

import pytest

from edge_reader.camera import ImageFiles, run_camera_loop
from edge_reader.commands import CommandPoller, DeviceCommand, LoopControl, apply_command
from tests.edge_reader.test_readers_and_camera import CALIBRATION, ListSink, write_frames


class ScriptedCommands:
    """Commands handed out at given frames; replies recorded."""

    def __init__(self, at_frame: dict[int, list[DeviceCommand]]):
        self.at_frame = at_frame
        self.frame = 0
        self.replies: list[tuple[int, dict]] = []
        self.waits: list[float] = []

    def take(self) -> list[DeviceCommand]:
        return self.at_frame.pop(self.frame, [])

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        self.frame += 1  # the frame interval passed
        return False

    def reply(self, command: DeviceCommand, response: dict) -> None:
        self.replies.append((command.id, response))


def test_commands_change_the_interval_ask_for_a_reading_and_report_status(tmp_path):
    write_frames(tmp_path, [2.0, 3.0, 4.0, 5.0])
    commands = ScriptedCommands(
        {
            0: [DeviceCommand(1, "setInterval", {"seconds": 2}), DeviceCommand(2, "getStatus", {})],
            1: [
                DeviceCommand(3, "readNow", {}),
                DeviceCommand(4, "launch", {}),
                DeviceCommand(5, "setInterval", {}, oneway=True),
            ],
        }
    )
    stats = run_camera_loop(
        ImageFiles(tmp_path), CALIBRATION, ListSink(), interval=5, commands=commands, clock=lambda: 0.0
    )
    assert stats.frames == 4
    replies = dict(commands.replies)
    assert replies[1] == {"interval": 2.0}
    assert replies[2]["interval"] == 2.0 and replies[2]["frames"] == 1
    # readNow ends the wait: the next frame (4.0) is read at once and answers it.
    assert replies[3]["value"] == pytest.approx(4.0, abs=0.1) and 0 < replies[3]["confidence"] <= 1
    assert "unknown method" in replies[4]["error"]
    assert 5 not in replies  # one-way: applied, never answered
    assert commands.waits[0] == 2.0  # the new interval, at once


def test_a_bad_calibration_command_is_refused_and_the_old_one_kept():
    control = LoopControl(interval=5, calibration=CALIBRATION)
    answer = apply_command(
        DeviceCommand(1, "setCalibration", {"calibration": {"kind": "dial", "min_angle": "x"}}), control, {}
    )
    assert "error" in answer and control.calibration is CALIBRATION
    assert "error" in apply_command(DeviceCommand(2, "setInterval", {"seconds": 0}), control, {})
    assert "error" in apply_command(DeviceCommand(3, "setInterval", {"seconds": True}), control, {})
    good = dict(CALIBRATION, max_value=20)
    assert apply_command(DeviceCommand(4, "setCalibration", {"calibration": good}), control, {}) == {
        "calibration": "applied"
    }
    assert control.calibration == good


@pytest.mark.django_db(transaction=True)
def test_the_poller_takes_a_command_from_the_server_and_the_loop_answers_it(live_server, user, tmp_path, settings):
    from devicecomm import services
    from devices.services import device_create

    settings.MQTT_HOST = ""
    device, token = device_create(owner=user, name="Camera", type="analog_gauge")
    command = services.command_create(device=device, method="setInterval", params={"seconds": 0.5}, timeout_s=60)
    write_frames(tmp_path, [2.0, 3.0])
    poller = CommandPoller(live_server.url, token, poll_timeout=0.5).start()
    try:
        assert poller.wait(10)  # the command arrived
        stats = run_camera_loop(ImageFiles(tmp_path), CALIBRATION, ListSink(), interval=0, commands=poller)
    finally:
        poller.stop()
        time.sleep(1)  # the server finishes the poll in flight before the test database goes
    assert stats.frames == 2
    command.refresh_from_db()
    assert (command.state, command.response) == ("succeeded", {"interval": 0.5})


def test_the_poller_keeps_trying_when_the_server_is_away():
    poller = CommandPoller("http://127.0.0.1:9", "iotd_x", poll_timeout=1, retry_delay=0.05).start()
    stopper = threading.Timer(0.3, poller.stop)
    stopper.start()
    assert poller.wait(1) is False or poller.take() == []
    stopper.join()
