"""Device credentials at the MQTT broker, through Mosquitto's dynamic security plugin.

Each device is a broker client (username = device id, password = its token) holding a
role of its own, `device-{id}`, that may publish to `devices/{id}/telemetry` and do
nothing else: Mosquitto 2.0's dynamic security has no `%u` substitution, so one role
per device is how an ACL names a device's own topic. The server sends the plugin's
JSON commands to `$CONTROL/dynamic-security/v1` with its own broker account. Setting a
password or deleting a client disconnects whoever is connected with it, so a rotated
or revoked token stops working at the broker at once.

Token changes call this after their transaction commits. A broker that cannot be
reached is logged, never raised: the token change itself stands, and
`manage.py mqtt_sync_devices` brings the broker back in line.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion

logger = logging.getLogger(__name__)

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
COMMANDS_PER_MESSAGE = 200
# Errors that mean "already as wanted" for the idempotent command sequences below.
HARMLESS_ERRORS = ("already exists", "not found")


class BrokerError(Exception):
    pass


def broker_enabled() -> bool:
    return bool(settings.MQTT_DYNSEC_ENABLED and settings.MQTT_HOST)


def device_topic(device_id: int) -> str:
    return f"devices/{device_id}/telemetry"


def device_role(device_id: int) -> str:
    return f"device-{device_id}"


def credentials_commands(*, device_id: int, token: str) -> list[dict[str, Any]]:
    """Create or update a device's client and role; right whatever the broker held."""
    username, role = str(device_id), device_role(device_id)
    acl = {"acltype": "publishClientSend", "topic": device_topic(device_id), "priority": 0, "allow": True}
    return [
        {"command": "createRole", "rolename": role, "acls": [acl]},
        {"command": "addRoleACL", "rolename": role, **acl},
        {"command": "createClient", "username": username, "password": token, "roles": [{"rolename": role}]},
        # Disconnects a client still connected with the previous token.
        {"command": "setClientPassword", "username": username, "password": token},
    ]


def removal_commands(*, device_id: int) -> list[dict[str, Any]]:
    return [
        {"command": "deleteClient", "username": str(device_id)},  # disconnects it too
        {"command": "deleteRole", "rolename": device_role(device_id)},
    ]


def device_credentials_set(*, device_id: int, token: str) -> None:
    """Let the device connect with this token, and no other."""
    _run_logged(credentials_commands(device_id=device_id, token=token), what=f"set credentials of device {device_id}")


def device_credentials_remove(*, device_id: int) -> None:
    """Disconnect the device and refuse it from now on."""
    _run_logged(removal_commands(device_id=device_id), what=f"remove device {device_id}")


def _run_logged(commands: list[dict[str, Any]], *, what: str) -> None:
    if not broker_enabled():
        return
    try:
        with BrokerControl() as control:
            control.run(commands)
    except BrokerError as error:
        logger.error("MQTT broker: could not %s (%s); run manage.py mqtt_sync_devices", what, error)


def device_ids_at_broker(control: BrokerControl) -> set[int]:
    """Ids of the device clients the broker holds (usernames that are numbers)."""
    [response] = control.run([{"command": "listClients", "verbose": False, "count": -1, "offset": 0}])
    usernames = response.get("data", {}).get("clients", [])
    return {int(username) for username in usernames if isinstance(username, str) and username.isdigit()}


class BrokerControl:
    """One connection to the broker's control topic; commands answered in order."""

    def __init__(self) -> None:
        self._timeout = settings.MQTT_TIMEOUT.total_seconds()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"iotsite-control-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5,
        )
        self._client.username_pw_set(settings.MQTT_USERNAME, settings.MQTT_PASSWORD)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._ready = threading.Event()
        self._connect_error: str | None = None
        # Several server processes share the response topic: correlation data tells ours apart.
        self._waiting: dict[str, tuple[threading.Event, list]] = {}

    def __enter__(self) -> BrokerControl:
        try:
            self._client.connect(settings.MQTT_HOST, settings.MQTT_PORT, keepalive=30)
        except OSError as error:
            raise BrokerError(f"cannot reach {settings.MQTT_HOST}:{settings.MQTT_PORT}: {error}") from None
        self._client.loop_start()
        if not self._ready.wait(self._timeout):
            self.__exit__()
            raise BrokerError("the broker did not answer the connection in time")
        if self._connect_error:
            self.__exit__()
            raise BrokerError(self._connect_error)
        return self

    def __exit__(self, *exc_info) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._connect_error = f"the broker refused the server's account: {reason_code}"
            self._ready.set()
            return
        client.subscribe(RESPONSE_TOPIC, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            self._connect_error = f"the server's account may not use {CONTROL_TOPIC}: {reason_codes[0]}"
        self._ready.set()

    def _on_message(self, client, userdata, message) -> None:
        try:
            responses = orjson.loads(message.payload).get("responses", [])
        except (orjson.JSONDecodeError, AttributeError):
            return
        for response in responses:
            waiting = self._waiting.get(response.get("correlationData"))
            if waiting is not None:
                waiting[1].append(response)
                waiting[0].set()

    def run(self, commands: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run the commands; an error other than "already as wanted" raises BrokerError."""
        commands = list(commands)
        responses = []
        for start in range(0, len(commands), COMMANDS_PER_MESSAGE):
            responses.extend(self._run_chunk(commands[start : start + COMMANDS_PER_MESSAGE]))
        for command, response in zip(commands, responses, strict=True):
            error = response.get("error")
            if error and not any(harmless in error.lower() for harmless in HARMLESS_ERRORS):
                raise BrokerError(f"{command['command']}: {error}")
        return responses

    def _run_chunk(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        tagged = []
        for command in commands:
            correlation = uuid.uuid4().hex
            self._waiting[correlation] = (threading.Event(), [])
            tagged.append({**command, "correlationData": correlation})
        try:
            self._client.publish(CONTROL_TOPIC, orjson.dumps({"commands": tagged}), qos=1)
            responses = []
            for command in tagged:
                event, answer = self._waiting[command["correlationData"]]
                if not event.wait(self._timeout):
                    raise BrokerError(f"no answer to {command['command']} in time")
                responses.append(answer[0])
            return responses
        finally:
            for command in tagged:
                self._waiting.pop(command["correlationData"], None)


def devices_sync(*, credentials: dict[int, str]) -> tuple[int, int]:
    """Make the broker hold exactly these devices' credentials (id → token), removing
    device clients it holds beyond them. Returns (devices set, devices removed)."""
    with BrokerControl() as control:
        stale = device_ids_at_broker(control) - credentials.keys()
        commands = [
            command
            for device_id, token in credentials.items()
            for command in credentials_commands(device_id=device_id, token=token)
        ]
        commands += [command for device_id in sorted(stale) for command in removal_commands(device_id=device_id)]
        control.run(commands)
    return len(credentials), len(stale)
