"""Device credentials at the MQTT broker, through Mosquitto's dynamic security plugin.

Each device is a broker client (username = device id, password = its token) holding a
role of its own, `device-{id}`, that may publish to its own uplink topics
(`devices/{id}/telemetry`, attributes, command replies) and receive its own downlink
(`devices/{id}/down/#`), plus ThingsBoard's `v1/devices/me/...` topics, which the
iotsite_me broker plugin maps onto those (devicecomm/topics.py). Mosquitto 2.0's
dynamic security has no `%u` substitution, so one role per device is how an ACL names
a device's own topics. The server sends the plugin's
JSON commands to `$CONTROL/dynamic-security/v1` with its own broker account. Setting a
password or deleting a client disconnects whoever is connected with it, so a rotated
or revoked token stops working at the broker at once.

Token changes call this after their transaction commits. A broker that cannot be
reached is logged, never raised: the token change itself stands, and
`manage.py mqtt_sync_devices` brings the broker back in line.
"""

from __future__ import annotations

import hashlib
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
# The iotsite_me plugin's: which device a token given as the username belongs to.
ME_CONTROL_TOPIC = "$CONTROL/iotsite/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
COMMANDS_PER_MESSAGE = 200
# Errors that mean "already as wanted" for the idempotent command sequences below.
HARMLESS_ERRORS = ("already exists", "not found")
# The server's role (deploy/mosquitto/dynsec_seed.py) and what device communication adds to it.
SERVER_ROLE = "iotsite-server"
SERVER_DEVICECOMM_ACLS: list[dict[str, Any]] = [
    {"acltype": acltype, "topic": topic, "priority": 0, "allow": True}
    for acltype, topic in (
        ("subscribePattern", "devices/#"),
        ("subscribePattern", "$share/+/devices/#"),
        ("publishClientReceive", "devices/#"),
        ("publishClientSend", "devices/+/down/#"),
        ("publishClientSend", "$CONTROL/iotsite/#"),
    )
]


class BrokerError(Exception):
    pass


def broker_enabled() -> bool:
    return bool(settings.MQTT_DYNSEC_ENABLED and settings.MQTT_HOST)


def device_topic(device_id: int) -> str:
    return f"devices/{device_id}/telemetry"


def device_role(device_id: int) -> str:
    return f"device-{device_id}"


# A device's uplink, under its own id and under ThingsBoard's `me` (the plugin renames those).
UPLINK_SUFFIXES = ("telemetry", "attributes", "attributes/request/+", "rpc/response/+", "rpc/request/+")


def device_acls(device_id: int) -> list[dict[str, Any]]:
    def acl(acltype: str, topic: str) -> dict[str, Any]:
        return {"acltype": acltype, "topic": topic, "priority": 0, "allow": True}

    own, me = f"devices/{device_id}", "v1/devices/me"
    acls = [acl("publishClientSend", f"{prefix}/{suffix}") for prefix in (own, me) for suffix in UPLINK_SUFFIXES]
    for downlink in (f"{own}/down/#", f"{me}/#"):
        acls += [acl("subscribePattern", downlink), acl("publishClientReceive", downlink)]
    return acls


def credentials_commands(*, device_id: int, token: str) -> list[dict[str, Any]]:
    """Create or update a device's client and role; right whatever the broker held."""
    username, role = str(device_id), device_role(device_id)
    acls = device_acls(device_id)
    return [
        {"command": "createRole", "rolename": role, "acls": acls},
        # An existing role (an older broker) gains what it lacks.
        *({"command": "addRoleACL", "rolename": role, **acl} for acl in acls),
        {"command": "createClient", "username": username, "password": token, "roles": [{"rolename": role}]},
        # Disconnects a client still connected with the previous token.
        {"command": "setClientPassword", "username": username, "password": token},
    ]


def removal_commands(*, device_id: int) -> list[dict[str, Any]]:
    return [
        {"command": "deleteClient", "username": str(device_id)},  # disconnects it too
        {"command": "deleteRole", "rolename": device_role(device_id)},
    ]


def me_token_line(*, device_id: int, token: str) -> str:
    """For the plugin: a device that connects with this token as its username (ThingsBoard's
    way) is device_id. Only a SHA-256 of the token reaches the broker."""
    return f"set {device_id} {hashlib.sha256(token.encode()).hexdigest()}"


def device_credentials_set(*, device_id: int, token: str) -> None:
    """Let the device connect with this token, and no other."""
    _run_logged(
        credentials_commands(device_id=device_id, token=token),
        me_lines=[me_token_line(device_id=device_id, token=token)],
        what=f"set credentials of device {device_id}",
    )


def device_credentials_remove(*, device_id: int) -> None:
    """Disconnect the device and refuse it from now on."""
    _run_logged(
        removal_commands(device_id=device_id), me_lines=[f"remove {device_id}"], what=f"remove device {device_id}"
    )


def _run_logged(commands: list[dict[str, Any]], *, me_lines: list[str], what: str) -> None:
    if not broker_enabled():
        return
    try:
        with BrokerControl() as control:
            # The token's owner first: dynamic security's setClientPassword disconnects a
            # ThingsBoard-style client, which must find the new token when it comes back.
            control.me_tokens(me_lines)
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

    def me_tokens(self, lines: list[str]) -> None:
        """Send lines to the iotsite_me plugin; raises BrokerError without its PUBACK."""
        for start in range(0, len(lines), COMMANDS_PER_MESSAGE * 10):
            info = self._client.publish(
                ME_CONTROL_TOPIC, "\n".join(lines[start : start + COMMANDS_PER_MESSAGE * 10]), qos=1
            )
            info.wait_for_publish(self._timeout)
            if not info.is_published():
                raise BrokerError(f"no answer from the broker's iotsite_me plugin on {ME_CONTROL_TOPIC} in time")

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
        # A broker seeded before device communication: the server's role gains its topics.
        commands += [{"command": "addRoleACL", "rolename": SERVER_ROLE, **acl} for acl in SERVER_DEVICECOMM_ACLS]
        control.run(commands)
        control.me_tokens(
            ["reset"] + [me_token_line(device_id=device_id, token=token) for device_id, token in credentials.items()]
        )
    return len(credentials), len(stale)
