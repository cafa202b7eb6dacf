from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from devicecomm.models import Attribute, Command
from devices.models import Device


def attributes_by_scope(*, device: Device, scopes: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """{"client": {...}, "shared": {...}, "server": {...}} for the scopes asked."""
    found: dict[str, dict[str, Any]] = {scope: {} for scope in scopes}
    for scope, key, value in Attribute.objects.filter(device=device, scope__in=scopes).values_list(
        "scope", "key", "value"
    ):
        found[scope][key] = value
    return found


def attribute_values(*, device: Device, scope: str, keys: list[str] | None) -> dict[str, Any]:
    """The values of these keys (all keys when None); missing keys are left out."""
    attributes = Attribute.objects.filter(device=device, scope=scope)
    if keys is not None:
        attributes = attributes.filter(key__in=keys)
    return dict(attributes.values_list("key", "value"))


def shared_changed_since(*, device: Device, since: datetime) -> dict[str, Any]:
    return dict(
        Attribute.objects.filter(device=device, scope=Attribute.SHARED, updated_at__gt=since).values_list(
            "key", "value"
        )
    )


def commands_of_device(*, device: Device) -> QuerySet[Command]:
    return Command.objects.filter(device=device).select_related("device")


def command_of_device(*, device: Device, command_id: int) -> Command | None:
    return Command.objects.filter(device=device, pk=command_id).select_related("device").first()
