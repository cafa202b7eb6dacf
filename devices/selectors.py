from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from devices.models import Device
from devices.tokens import token_digest, token_is_well_formed


def devices_of_user(*, user) -> QuerySet[Device]:
    return Device.objects.filter(owner=user).prefetch_related("sensors")


def device_get_for_user(*, user, device_id) -> Device:
    """The user's device; another user's device is a 404, exactly like a missing one."""
    return get_object_or_404(devices_of_user(user=user), pk=device_id)


def device_by_token(*, token: str) -> Device | None:
    """The device a token belongs to, read from the database on every call so that a
    rotation or revocation holds on the very next request in every worker."""
    if not token_is_well_formed(token):
        return None
    # A raw query: this runs on every device request, and compiling the ORM query
    # costs far more than the indexed lookup (devices_device_token_digest_key) itself.
    found = list(Device.objects.raw("SELECT * FROM devices_device WHERE token_digest = %s", [token_digest(token)]))
    return found[0] if found else None


def devices_with_token_by_id(*, device_ids: Iterable[int]) -> dict[int, Device]:
    """The devices among these ids that hold a token (MQTT ingest: a revoked device's
    messages still queued at the broker are not stored)."""
    return {device.pk: device for device in Device.objects.filter(pk__in=device_ids, token_digest__isnull=False)}


def device_name_taken(*, owner, name: str, exclude_id: int | None = None) -> bool:
    clashes = Device.objects.filter(owner=owner, name__iexact=name.strip())
    if exclude_id is not None:
        clashes = clashes.exclude(pk=exclude_id)
    return clashes.exists()
