"""Bridge brokers and what their discovery announces: the writes of the HA bridge."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from devices import tokens
from devices.models import Device
from devices.selectors import device_name_taken
from devices.services import device_create, device_update
from protocols.bridge import addresses, discovery, templates
from protocols.models import BridgeBroker, BridgedDevice, BridgedEntity
from telemetry import payloads, services
from telemetry.models import Sensor

logger = logging.getLogger(__name__)

PASSWORD_PURPOSE = b"iotsite bridge broker password"
STATUS_MAX_LENGTH = 200
NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")


HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$")


def broker_host_errors(host: str, *, port: int = 1883) -> list[str]:
    """Why a broker address cannot be used (empty when it can): a bare host name or
    address, allowed by the bridge's address rule (protocols/bridge/addresses.py)."""
    host = host.strip()
    if not HOSTNAME.match(host):
        return ["Enter a host name or IP address, without scheme or port (e.g. 192.168.1.10)."]
    refusal = addresses.broker_host_refusal(host, port)
    return [f"The bridge may not connect there: {refusal}."] if refusal else []


def discovery_prefix_errors(prefix: str) -> list[str]:
    prefix = prefix.strip().strip("/")
    if not prefix or any(char in prefix for char in "+#\x00") or len(prefix) > 100:
        return ["Enter a topic prefix without wildcards (Home Assistant's default is homeassistant)."]
    return []


def broker_create(
    *,
    owner,
    name: str,
    host: str,
    port: int = 1883,
    tls: bool = False,
    username: str = "",
    password: str = "",
    discovery_prefix: str = "homeassistant",
    enabled: bool = True,
) -> BridgeBroker:
    broker = BridgeBroker(
        owner=owner,
        name=name.strip(),
        host=host.strip(),
        port=port,
        tls=tls,
        username=username,
        discovery_prefix=discovery_prefix.strip("/") or "homeassistant",
        enabled=enabled,
    )
    _password_set(broker, password)
    broker.save()
    return broker


def broker_update(*, broker: BridgeBroker, password: str | None = None, **fields: Any) -> BridgeBroker:
    """Change a broker; `password` None keeps the stored one, "" removes it."""
    for field, value in fields.items():
        setattr(broker, field, value.strip() if field in ("name", "host") else value)
    update_fields = list(fields)
    if password is not None:
        _password_set(broker, password)
        update_fields.append("password_ciphertext")
    broker.status, broker.status_at = "", None  # the bridge reconnects with the new settings
    broker.save(update_fields=[*update_fields, "status", "status_at"])
    return broker


def broker_delete(*, broker: BridgeBroker) -> None:
    """Stop bridging; the devices it created stay, with their readings."""
    broker.delete()


def broker_password(*, broker: BridgeBroker) -> str:
    if not broker.password_ciphertext:
        return ""
    return tokens.secret_decrypt(broker.password_ciphertext, purpose=PASSWORD_PURPOSE) or ""


def _password_set(broker: BridgeBroker, password: str) -> None:
    broker.password_ciphertext = tokens.secret_encrypt(password, purpose=PASSWORD_PURPOSE) if password else ""


def broker_status_set(*, broker_id: int, status: str) -> None:
    BridgeBroker.objects.filter(pk=broker_id).update(status=status[:STATUS_MAX_LENGTH], status_at=timezone.now())


@transaction.atomic
def entity_discovered(*, broker: BridgeBroker, discovery_topic: str, entity: discovery.Entity) -> BridgedEntity:
    """Create (or update) the device and the sensor a discovery message announces."""
    bridged = (
        BridgedDevice.objects.select_related("device")
        .filter(broker=broker, identifier=entity.device_identifier)
        .first()
    )
    if bridged is None:
        name = _free_name(broker.owner, entity.device_name)
        device, _token = device_create(
            owner=broker.owner,
            name=name,
            type="generic",
            description=f"Discovered on {broker.name} ({entity.device_identifier})."[:2000],
        )
        bridged = BridgedDevice.objects.create(
            broker=broker, identifier=entity.device_identifier, device=device, discovered_name=name
        )
    elif entity.device_named and bridged.device.name == bridged.discovered_name != entity.device_name:
        # Tasmota names its device in one of several messages; the first may carry
        # only an entity name. The owner's own renaming always stands.
        name = _free_name(broker.owner, entity.device_name)
        device_update(device=bridged.device, name=name)
        bridged.discovered_name = name
        bridged.save(update_fields=["discovered_name"])
    bridged_entity, _created = BridgedEntity.objects.update_or_create(
        broker=broker,
        discovery_topic=discovery_topic,
        defaults={
            "bridged_device": bridged,
            "component": entity.component,
            "sensor_key": entity.sensor_key,
            "state_topic": entity.state_topic,
            "value_template": entity.value_template,
            "payload_on": entity.payload_on,
            "payload_off": entity.payload_off,
            "unit": entity.unit,
        },
    )
    if entity.unit:
        _unit_keep(bridged.device, entity.sensor_key, entity.unit)
    return bridged_entity


def entity_removed(*, broker: BridgeBroker, discovery_topic: str) -> None:
    """An empty discovery payload: stop bridging the entity (its readings stay)."""
    BridgedEntity.objects.filter(broker=broker, discovery_topic=discovery_topic).delete()


def _free_name(owner, wanted: str) -> str:
    name = wanted.strip() or "Discovered device"
    candidate, number = name, 2
    while device_name_taken(owner=owner, name=candidate):
        suffix = f" ({number})"
        candidate = name[: 100 - len(suffix)] + suffix
        number += 1
    return candidate


def _unit_keep(device: Device, key: str, unit: str) -> None:
    """unit_of_measurement becomes the sensor's unit, now or when it first reports."""
    config = dict(device.config) if isinstance(device.config, dict) else {}
    units = dict(config.get("units") or {})
    if units.get(key) != unit:
        units[key] = unit
        device_update(device=device, config={**config, "units": units})
    Sensor.objects.filter(device=device, key=key).exclude(unit=unit).update(unit=unit)


@dataclass(frozen=True)
class StateReader:
    """How one bridged entity's state message becomes a reading (worker's cache)."""

    device_id: int
    component: str
    sensor_key: str
    value_template: str
    payload_on: str
    payload_off: str

    @classmethod
    def of(cls, entity: BridgedEntity) -> StateReader:
        return cls(
            device_id=entity.bridged_device.device_id,
            component=entity.component,
            sensor_key=entity.sensor_key,
            value_template=entity.value_template,
            payload_on=entity.payload_on,
            payload_off=entity.payload_off,
        )

    def value(self, payload: bytes) -> float | None:
        """The number to store, or None when the message holds none for this entity."""
        try:
            rendered = templates.render(self.value_template, payload)
        except templates.Undefined:
            return None
        if self.component == "binary_sensor":
            text = templates.as_text(rendered).strip()
            if text == self.payload_on:
                return 1.0
            if text == self.payload_off:
                return 0.0
            return None
        if isinstance(rendered, (bool, int, float)) or isinstance(rendered, str) and NUMBER.fullmatch(rendered):
            number = float(rendered)
        else:
            return None  # text states ("unavailable", a timestamp) have no reading
        return number if math.isfinite(number) else None


def states_store(*, readers: list[StateReader], payload: bytes, received_at: datetime) -> int:
    """Store what a state message says for each entity reading that topic; the count stored.
    Entities whose template cannot be evaluated raise UnsupportedTemplate to the caller."""
    by_device: dict[int, dict[str, float]] = {}
    for reader in readers:
        value = reader.value(payload)
        if value is not None:
            by_device.setdefault(reader.device_id, {})[reader.sensor_key] = value
    if not by_device:
        return 0
    stored = 0
    devices = Device.objects.in_bulk(list(by_device))
    for device_id, values in by_device.items():
        device = devices.get(device_id)
        if device is None:
            continue  # deleted by its owner since the worker last looked
        readings: list[payloads.ParsedReading] = []
        payloads.add_values(values, ts=received_at, index=None, readings=readings, checked_keys=set(), stamped=True)
        stored += services.readings_ingest(device=device, readings=readings, received_at=received_at).accepted
    return stored
