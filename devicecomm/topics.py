"""MQTT topics of device communication, ours and their ThingsBoard twins.

A device publishes (uplink) under `devices/{id}/`, and the server publishes (downlink)
under `devices/{id}/down/`, so that neither side ever hears its own messages. A device
speaking ThingsBoard's API publishes to `v1/devices/me/X` and subscribes to
`v1/devices/me/Y`; the broker's iotsite plugin (deploy/mosquitto/iotsite_me.c) turns
the first into `devices/{id}/X` and copies `devices/{id}/down/Y` to that one device's
`v1/devices/me/Y`. The suffixes are therefore ThingsBoard's own:

    uplink (device → server)                 downlink (server → device)
    devices/{id}/telemetry                   devices/{id}/down/attributes              shared changes
    devices/{id}/attributes                  devices/{id}/down/attributes/response/{n}
    devices/{id}/attributes/request/{n}      devices/{id}/down/rpc/request/{n}         commands
    devices/{id}/rpc/response/{n}            devices/{id}/down/rpc/response/{n}        client-side RPC answers
    devices/{id}/rpc/request/{n}             (client-side RPC calls)

and `devices/{id}/rpc/subscribed`, published by the plugin itself when the device
subscribes to its commands, tells the server to send its persistent commands again.
"""

from __future__ import annotations

import re
from typing import NamedTuple

ATTRIBUTES = "attributes"
ATTRIBUTES_REQUEST = "attributes/request"
RPC_RESPONSE = "rpc/response"
RPC_REQUEST = "rpc/request"
RPC_SUBSCRIBED = "rpc/subscribed"

# What the server's worker subscribes to (the telemetry worker owns devices/+/telemetry).
UPLINK_FILTERS = (
    "devices/+/attributes",
    "devices/+/attributes/request/+",
    "devices/+/rpc/response/+",
    "devices/+/rpc/request/+",
    "devices/+/rpc/subscribed",
)

_UPLINK = re.compile(
    r"^devices/(\d{1,18})/(attributes|attributes/request|rpc/response|rpc/request|rpc/subscribed)(?:/([^/]{1,64}))?$"
)
_WITH_ID = {ATTRIBUTES_REQUEST, RPC_RESPONSE, RPC_REQUEST}


class Uplink(NamedTuple):
    device_id: int
    kind: str  # one of the constants above
    request_id: str | None


def uplink_of_topic(topic: str) -> Uplink | None:
    match = _UPLINK.match(topic)
    if match is None:
        return None
    device_id, kind, request_id = int(match[1]), match[2], match[3]
    if (kind in _WITH_ID) != (request_id is not None):
        return None
    return Uplink(device_id, kind, request_id)


def down(device_id: int, suffix: str) -> str:
    return f"devices/{device_id}/down/{suffix}"


def shared_updates(device_id: int) -> str:
    return down(device_id, ATTRIBUTES)


def attributes_response(device_id: int, request_id: str) -> str:
    return down(device_id, f"attributes/response/{request_id}")


def command_request(device_id: int, command_id: int) -> str:
    return down(device_id, f"rpc/request/{command_id}")


def client_rpc_response(device_id: int, request_id: str) -> str:
    return down(device_id, f"rpc/response/{request_id}")
