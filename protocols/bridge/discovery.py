"""Home Assistant MQTT discovery messages, read into what the bridge needs.

Topic: `<prefix>/<component>/[<node_id>/]<object_id>/config`; payload: a JSON object,
possibly with HA's abbreviated keys (Tasmota's `stat_t`, `val_tpl`, `dev: {ids}`) and
a `~` base topic. An empty payload removes the entity. Only `sensor` and
`binary_sensor` are bridged; other components are ignored.

Each entity's sensor key is its object id (the last topic level before `/config`),
less a leading `<device identifier>_` (Tasmota prefixes its MAC), at most 64 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from telemetry.payloads import SENSOR_KEY_MAX_LENGTH

COMPONENTS = {"sensor", "binary_sensor"}
# Home Assistant's abbreviations of the keys read here.
ABBREVIATIONS = {
    "stat_t": "state_topic",
    "val_tpl": "value_template",
    "unit_of_meas": "unit_of_measurement",
    "dev": "device",
    "uniq_id": "unique_id",
    "obj_id": "object_id",
    "pl_on": "payload_on",
    "pl_off": "payload_off",
    "dev_cla": "device_class",
}
DEVICE_ABBREVIATIONS = {"ids": "identifiers", "cns": "connections", "mf": "manufacturer", "mdl": "model"}
DEVICE_NAME_MAX_LENGTH = 100
UNIT_MAX_LENGTH = 32
TOPIC_MAX_LENGTH = 512  # BridgedEntity's topic columns


class DiscoveryError(Exception):
    pass


@dataclass(frozen=True)
class DiscoveryTopic:
    component: str
    node_id: str | None
    object_id: str


@dataclass(frozen=True)
class Entity:
    component: str
    device_identifier: str
    device_name: str
    device_named: bool  # the name is the device block's own, not a fallback
    sensor_key: str
    state_topic: str
    value_template: str
    payload_on: str
    payload_off: str
    unit: str


def discovery_filters(prefix: str) -> list[str]:
    return [f"{prefix}/+/+/config", f"{prefix}/+/+/+/config"]


def parse_topic(topic: str, *, prefix: str) -> DiscoveryTopic | None:
    if len(topic) > TOPIC_MAX_LENGTH:
        return None
    levels = topic.split("/")
    prefix_levels = prefix.split("/")
    if levels[: len(prefix_levels)] != prefix_levels or levels[-1] != "config":
        return None
    rest = levels[len(prefix_levels) : -1]
    if len(rest) == 2:
        return DiscoveryTopic(rest[0], None, rest[1])
    if len(rest) == 3:
        return DiscoveryTopic(rest[0], rest[1], rest[2])
    return None


def parse_config(where: DiscoveryTopic, payload: bytes) -> Entity:
    """The entity a discovery payload announces; DiscoveryError when it cannot be bridged."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise DiscoveryError(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise DiscoveryError("not a JSON object")
    config = _expanded(document, ABBREVIATIONS)
    device = config.get("device")
    device = _expanded(device, DEVICE_ABBREVIATIONS) if isinstance(device, dict) else {}
    identifier = _identifier(device, config, where)
    state_topic = config.get("state_topic")
    if not isinstance(state_topic, str) or not state_topic or "+" in state_topic or "#" in state_topic:
        raise DiscoveryError("no usable state_topic")
    if len(state_topic) > TOPIC_MAX_LENGTH:
        raise DiscoveryError(f"state_topic longer than {TOPIC_MAX_LENGTH} characters")
    template = config.get("value_template")
    unit = config.get("unit_of_measurement")
    return Entity(
        component=where.component,
        device_identifier=identifier,
        device_name=_device_name(device, config, identifier),
        device_named=isinstance(device.get("name"), str) and bool(device["name"].strip()),
        sensor_key=_sensor_key(where, config, identifier),
        state_topic=state_topic,
        value_template=template if isinstance(template, str) else "",
        payload_on=_jinja_text(config.get("payload_on", "ON")),
        payload_off=_jinja_text(config.get("payload_off", "OFF")),
        unit=unit.strip()[:UNIT_MAX_LENGTH] if isinstance(unit, str) else "",
    )


def _expanded(document: dict[str, Any], abbreviations: dict[str, str]) -> dict[str, Any]:
    expanded = {abbreviations.get(key, key): value for key, value in document.items()}
    base = expanded.pop("~", None)
    if isinstance(base, str):
        # HA replaces `~` at the start or end of any *_topic value with the base topic.
        for key, value in expanded.items():
            if key.endswith("_topic") and isinstance(value, str):
                if value.startswith("~"):
                    expanded[key] = base + value[1:]
                elif value.endswith("~"):
                    expanded[key] = value[:-1] + base
    return expanded


def _identifier(device: dict[str, Any], config: dict[str, Any], where: DiscoveryTopic) -> str:
    identifiers = device.get("identifiers")
    if isinstance(identifiers, str) and identifiers:
        return identifiers[:255]
    if isinstance(identifiers, list) and identifiers and isinstance(identifiers[0], str) and identifiers[0]:
        return identifiers[0][:255]
    connections = device.get("connections")
    if isinstance(connections, list) and connections and isinstance(connections[0], list) and len(connections[0]) == 2:
        return ":".join(str(part) for part in connections[0])[:255]
    # No device block: the entity is a device of its own.
    unique_id = config.get("unique_id")
    return (unique_id if isinstance(unique_id, str) and unique_id else where.node_id or where.object_id)[:255]


def _device_name(device: dict[str, Any], config: dict[str, Any], identifier: str) -> str:
    for candidate in (device.get("name"), config.get("name"), identifier):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:DEVICE_NAME_MAX_LENGTH]
    return identifier[:DEVICE_NAME_MAX_LENGTH]


def _sensor_key(where: DiscoveryTopic, config: dict[str, Any], identifier: str) -> str:
    key = where.object_id
    prefix = identifier + "_"
    if key.lower().startswith(prefix.lower()) and len(key) > len(prefix):
        key = key[len(prefix) :]
    key = key.strip()[:SENSOR_KEY_MAX_LENGTH]
    if not key:
        raise DiscoveryError("no object id")
    return key


def _jinja_text(value: Any) -> str:
    # HA reads payload_on/off as strings: JSON true is "True", as a template prints it.
    return str(value)[:255]
