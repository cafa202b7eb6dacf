"""Commands from the server to the camera loop (docs/device-communication.md).

A thread long-polls `GET {server}/api/device/commands/?timeout=…` as the device and
queues what comes; the camera loop takes the queue between frames, applies each command
and answers it with `POST {server}/api/device/commands/{id}/`. The loop's wait between
frames ends early when a command arrives, so a command waits for no frame interval.

Methods this reader knows:
    setInterval    {"seconds": 10}             → {"interval": 10}
    setCalibration {"calibration": {...}}      → {"calibration": "applied"}
    readNow        {}                           → the next frame's {"value", "confidence", ...}
    getStatus      {}                           → {"frames", "readings", "unreadable", "interval"}
Anything else is answered {"error": ...}, which fails the command at the server.

The server hands a command to a device once over HTTP (at most once): a reply lost on
the way back leaves the command to expire there. One-way commands are applied and not
answered.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from edge_reader.calibration import CalibrationError, validate_calibration

log = logging.getLogger(__name__)

COMMANDS_PATH = "/api/device/commands/"
MIN_INTERVAL_S = 0.1
MAX_INTERVAL_S = 24 * 3600.0


@dataclass(frozen=True)
class DeviceCommand:
    id: int
    method: str
    params: Any
    oneway: bool = False


class CommandSource(Protocol):
    def take(self) -> list[DeviceCommand]: ...

    def wait(self, timeout: float) -> bool: ...

    def reply(self, command: DeviceCommand, response: dict[str, Any]) -> None: ...


@dataclass
class LoopControl:
    """What commands may change while the loop runs."""

    interval: float
    calibration: dict[str, Any]
    awaiting_reading: list[DeviceCommand] = field(default_factory=list)


def apply_command(command: DeviceCommand, control: LoopControl, status: dict[str, Any]) -> dict[str, Any] | None:
    """Apply one command; its answer, or None when it waits for the next reading."""
    params = command.params if isinstance(command.params, dict) else {}
    if command.method == "setInterval":
        seconds = params.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            return {"error": "seconds: give a number of seconds"}
        if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
            return {"error": f"seconds: from {MIN_INTERVAL_S} to {MAX_INTERVAL_S:g}"}
        control.interval = float(seconds)
        return {"interval": control.interval}
    if command.method == "setCalibration":
        calibration = params.get("calibration")
        try:
            if not isinstance(calibration, dict):
                raise CalibrationError("calibration: must be a JSON object")
            if calibration.get("kind", "dial") == "dial":
                validate_calibration(calibration)
        except CalibrationError as error:
            return {"error": str(error)}
        control.calibration = calibration
        return {"calibration": "applied"}
    if command.method == "readNow":
        control.awaiting_reading.append(command)
        return None
    if command.method == "getStatus":
        return {**status, "interval": control.interval}
    return {"error": f"unknown method {command.method!r}: setInterval, setCalibration, readNow, getStatus"}


class CommandPoller:
    """Long-polls the server for the device's commands in a thread of its own."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        poll_timeout: float = 30.0,
        http: httpx.Client | None = None,
        retry_delay: float = 5.0,
    ):
        self.url = server.rstrip("/") + COMMANDS_PATH
        self.poll_timeout = poll_timeout
        self.retry_delay = retry_delay
        # Read timeout past the server's wait: an answer after `poll_timeout` is normal.
        self._http = http or httpx.Client(timeout=httpx.Timeout(poll_timeout + 15, connect=5.0))
        self._headers = {"Authorization": f"Device {token}"}
        self._inbox: queue.Queue[DeviceCommand] = queue.Queue()
        self._arrived = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="command-poller", daemon=True)

    def start(self) -> CommandPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._arrived.set()
        self._http.close()  # ends a poll in progress

    def take(self) -> list[DeviceCommand]:
        commands = []
        while True:
            try:
                commands.append(self._inbox.get_nowait())
            except queue.Empty:
                return commands

    def wait(self, timeout: float) -> bool:
        """Until a command arrives (True) or `timeout` seconds pass (False)."""
        arrived = self._arrived.wait(max(0.0, timeout))
        self._arrived.clear()
        return arrived and not self._stopping.is_set()

    def reply(self, command: DeviceCommand, response: dict[str, Any]) -> None:
        try:
            answered = self._http.post(f"{self.url}{command.id}/", json=response, headers=self._headers)
        except httpx.HTTPError as error:
            log.warning("command %d (%s): reply not sent: %s", command.id, command.method, error)
            return
        if answered.status_code >= 300:
            log.warning("command %d (%s): reply refused: HTTP %d", command.id, command.method, answered.status_code)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                response = self._http.get(self.url, params={"timeout": self.poll_timeout}, headers=self._headers)
            except (httpx.HTTPError, RuntimeError) as error:  # RuntimeError: the client was closed
                if self._stopping.is_set():
                    return
                log.warning("polling for commands failed: %s; again in %.0f s", error, self.retry_delay)
                self._stopping.wait(self.retry_delay)
                continue
            if response.status_code == 200:
                body = response.json()
                command = DeviceCommand(
                    id=int(body["id"]),
                    method=str(body["method"]),
                    params=body.get("params"),
                    oneway=bool(body.get("oneway")),
                )
                log.info("command %d: %s", command.id, command.method)
                self._inbox.put(command)
                self._arrived.set()
            elif response.status_code != 204:
                log.warning("polling for commands: HTTP %d; again in %.0f s", response.status_code, self.retry_delay)
                self._stopping.wait(self.retry_delay)


def handle_commands(commands: CommandSource, control: LoopControl, status: dict[str, Any]) -> bool:
    """Apply what has arrived; True when a command wants a reading at once."""
    wants_reading = False
    for command in commands.take():
        answer = apply_command(command, control, status)
        if answer is None:
            wants_reading = True
        elif not command.oneway:
            commands.reply(command, answer)
    return wants_reading
