from __future__ import annotations

from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from devices import broker, signals, tokens
from devices.models import Device
from iotsite.errors import DomainError

NAME_TAKEN = "You already have a device with this name."


class DeviceNameTaken(DomainError):
    pass


def _token_assign(device: Device) -> str:
    token = tokens.token_generate()
    device.token_digest = tokens.token_digest(token)
    device.token_ciphertext = tokens.token_encrypt(token)
    device.token_hint = tokens.token_hint(token)
    device.token_issued_at = timezone.now()
    return token


def _save_checking_name(device: Device, **save_kwargs) -> None:
    try:
        with transaction.atomic():
            device.save(**save_kwargs)
    except IntegrityError:
        # The case-insensitive unique constraint caught a clash that a concurrent
        # request created after our check.
        raise DeviceNameTaken(NAME_TAKEN, field="name") from None


def device_create(
    *,
    owner,
    name: str,
    type: str,
    description: str = "",
    config: dict[str, Any] | None = None,
    retention_days: int | None = None,
) -> tuple[Device, str]:
    """Create a device with its first token; returns the device and the plain token."""
    device = Device(
        owner=owner,
        name=name.strip(),
        type=type,
        description=description,
        config=config or {},
        retention_days=retention_days,
    )
    token = _token_assign(device)
    _save_checking_name(device)
    _broker_credentials_after_commit(device, token)
    return device, token


def device_update(*, device: Device, **fields: Any) -> Device:
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    for field, value in fields.items():
        setattr(device, field, value)
    _save_checking_name(device, update_fields=list(fields) or None)
    return device


def device_delete(*, device: Device) -> None:
    transaction.on_commit(partial(broker.device_credentials_remove, device_id=device.pk))
    device.delete()


def device_token_rotate(*, device: Device) -> str:
    """Issue a new token; the old one stops working on its very next request."""
    token = _token_assign(device)
    device.save(update_fields=["token_digest", "token_ciphertext", "token_hint", "token_issued_at"])
    _broker_credentials_after_commit(device, token)
    return token


def device_token_revoke(*, device: Device) -> None:
    device.token_digest = None
    device.token_ciphertext = ""
    device.token_hint = ""
    device.token_issued_at = None
    device.save(update_fields=["token_digest", "token_ciphertext", "token_hint", "token_issued_at"])
    transaction.on_commit(partial(broker.device_credentials_remove, device_id=device.pk))
    transaction.on_commit(partial(signals.device_token_revoked.send, sender=Device, device=device))


def _broker_credentials_after_commit(device: Device, token: str) -> None:
    # After the commit: the broker must never hold a token the database rolled back.
    transaction.on_commit(partial(broker.device_credentials_set, device_id=device.pk, token=token))


def device_token_plain(*, device: Device) -> str | None:
    """The device's current token for its owner (QR codes), None when revoked."""
    if not device.token_ciphertext:
        return None
    return tokens.token_decrypt(device.token_ciphertext)
