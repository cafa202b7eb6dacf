"""Attributes and commands: every change goes through here, whatever the transport.

Shared attribute changes and new commands are pushed to the device after the commit
(MQTT downlink; HTTP long-polls find them in the database), and every change is pushed
to the owner's live dashboard. See docs/device-communication.md for the states and the
delivery guarantee.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import APIException, NotFound, ValidationError

from devicecomm import publish, topics
from devicecomm.models import Attribute, Command
from devices.models import Device
from live.push import live_send
from telemetry.selectors import iso_utc

logger = logging.getLogger(__name__)

ATTRIBUTE_KEY_MAX_LENGTH = 255
METHOD_MAX_LENGTH = 255
OWNER_SCOPES = (Attribute.SHARED, Attribute.SERVER)
SCOPE_NAMES = ", ".join(scope for scope, _label in Attribute.SCOPES)
# What a device may have in flight to the broker; Mosquitto's default max_inflight_messages.
MAX_INFLIGHT_MESSAGES = 20
REVOKED = {"error": "The device's token was revoked."}


class DeviceHasNoToken(APIException):
    status_code = 409
    default_detail = "This device's token was revoked: it cannot take commands. Rotate to issue a new one."
    default_code = "no_token"


class CommandFinished(APIException):
    status_code = 409
    default_detail = "This command is finished (answered, expired or one-way): it takes no reply."
    default_code = "command_finished"


# --- validation -------------------------------------------------------------------------


def json_size(value: Any) -> int:
    return len(orjson.dumps(value))


def scope_validate(*, scope: Any, allowed: tuple[str, ...] = OWNER_SCOPES) -> str:
    if scope not in {name for name, _label in Attribute.SCOPES}:
        raise ValidationError({"scope": [f"Unknown scope {scope!r}: one of {SCOPE_NAMES}."]})
    if scope not in allowed:
        raise ValidationError(
            {"scope": [f"{scope} attributes are not yours to set here: allowed are {', '.join(allowed)}."]}
        )
    return scope


def key_error(key: Any) -> str | None:
    if not isinstance(key, str) or not key.strip():
        return "A key is a non-empty string."
    if len(key) > ATTRIBUTE_KEY_MAX_LENGTH:
        return f"A key is at most {ATTRIBUTE_KEY_MAX_LENGTH} characters."
    if not key.isprintable():
        return "A key may not hold control characters."
    return None


def attributes_validate(*, attributes: Any, field: str = "attributes") -> dict[str, Any]:
    """A JSON object of key → any JSON value, each value within ATTRIBUTE_MAX_VALUE_BYTES."""
    if not isinstance(attributes, dict) or not attributes:
        raise ValidationError({field: ["Send a JSON object of one or more key: value pairs."]})
    limit = settings.ATTRIBUTE_MAX_VALUE_BYTES
    errors: dict[str, list[str]] = {}
    for key, value in attributes.items():
        problem = key_error(key)
        if problem is None and value is None:
            problem = "A value may not be null: delete the key instead."
        elif problem is None and json_size(value) > limit:
            problem = f"The value is larger than {limit} bytes of JSON."
        if problem:
            errors[str(key)[:ATTRIBUTE_KEY_MAX_LENGTH]] = [problem]
    if errors:
        raise ValidationError({field: errors})
    return attributes


def keys_validate(*, keys: Any, field: str = "keys") -> list[str]:
    if isinstance(keys, str):
        keys = [key.strip() for key in keys.split(",") if key.strip()]
    if not isinstance(keys, list) or not keys or any(key_error(key) for key in keys):
        raise ValidationError({field: ["Name one or more keys (a list, or comma-separated)."]})
    return keys


# --- attributes ---------------------------------------------------------------------------


def attributes_set(*, device: Device, scope: str, attributes: dict[str, Any]) -> None:
    """Create or replace these keys in one scope; a shared change is pushed to the device."""
    attributes = attributes_validate(attributes=attributes)
    with transaction.atomic():
        existing = set(Attribute.objects.filter(device=device, scope=scope).values_list("key", flat=True))
        total = len(existing | attributes.keys())
        if total > settings.ATTRIBUTES_MAX_PER_SCOPE:
            raise ValidationError(
                {"attributes": [f"A device has at most {settings.ATTRIBUTES_MAX_PER_SCOPE} {scope} attributes."]}
            )
        now = timezone.now()
        Attribute.objects.bulk_create(
            [
                Attribute(device=device, scope=scope, key=key, value=value, updated_at=now)
                for key, value in attributes.items()
            ],
            update_conflicts=True,
            unique_fields=["device", "scope", "key"],
            update_fields=["value", "updated_at"],
        )
        transaction.on_commit(partial(_attributes_changed, device=device, scope=scope, changed=attributes, deleted=[]))


def attributes_delete(*, device: Device, scope: str, keys: list[str]) -> int:
    with transaction.atomic():
        gone = list(Attribute.objects.filter(device=device, scope=scope, key__in=keys).values_list("key", flat=True))
        Attribute.objects.filter(device=device, scope=scope, key__in=gone).delete()
        if gone:
            transaction.on_commit(partial(_attributes_changed, device=device, scope=scope, changed={}, deleted=gone))
    return len(gone)


def _attributes_changed(*, device: Device, scope: str, changed: dict[str, Any], deleted: list[str]) -> None:
    if scope == Attribute.SHARED:
        # ThingsBoard's update message: the changed keys, or {"deleted": [...]}.
        messages: list[tuple[str, object]] = []
        if changed:
            messages.append((topics.shared_updates(device.pk), changed))
        if deleted:
            messages.append((topics.shared_updates(device.pk), {"deleted": deleted}))
        publish.downlink_publish(messages)
    live_send(
        user_id=device.owner_id,
        device_id=device.pk,
        message={"type": "attributes", "device": device.pk, "scope": scope, "changed": changed, "deleted": deleted},
    )


# --- commands -----------------------------------------------------------------------------


def command_create(
    *,
    device: Device,
    method: str,
    params: Any = None,
    timeout_s: int | None = None,
    persistent: bool = False,
    oneway: bool = False,
) -> Command:
    """Store a command and send it to the device over MQTT after the commit."""
    if not device.has_token:
        raise DeviceHasNoToken()
    if not isinstance(method, str) or not method.strip() or len(method) > METHOD_MAX_LENGTH:
        raise ValidationError({"method": [f"A method is a name of 1 to {METHOD_MAX_LENGTH} characters."]})
    params = {} if params is None else params
    if json_size(params) > settings.COMMAND_MAX_PARAMS_BYTES:
        raise ValidationError({"params": [f"Larger than {settings.COMMAND_MAX_PARAMS_BYTES} bytes of JSON."]})
    timeout_s = settings.COMMAND_DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s
    if not 1 <= timeout_s <= settings.COMMAND_MAX_TIMEOUT_S:
        raise ValidationError({"timeout_s": [f"From 1 to {settings.COMMAND_MAX_TIMEOUT_S} seconds."]})
    now = timezone.now()
    command = Command.objects.create(
        device=device,
        method=method.strip(),
        params=params,
        persistent=persistent,
        oneway=oneway,
        expires_at=now + timedelta(seconds=timeout_s),
    )
    transaction.on_commit(partial(_command_created, command=command))
    return command


def _command_created(*, command: Command) -> None:
    command_push_live(command=command)
    commands_send_mqtt(commands=[command])


def command_message(command: Command) -> dict[str, Any]:
    """What the device receives: ThingsBoard's request body."""
    return {"method": command.method, "params": command.params}


def commands_send_mqtt(*, commands: list[Command], subscriber_seen: bool = False) -> None:
    """Publish commands to their device's request topic; those the broker took are sent.

    `subscriber_seen`: the device has just subscribed to its commands, so the broker has
    somewhere to deliver them. Only then is a persistent one-way command done with;
    published before, it may have found nobody, and waits to be sent again."""
    now = timezone.now()
    commands = [command for command in commands if command.finished_at is None and command.expires_at > now]
    if not commands or not publish.mqtt_enabled():
        return
    messages = [
        (topics.command_request(command.device_id, command.pk), command_message(command)) for command in commands
    ]
    if not publish.downlink_publish(messages):
        return
    for command in commands:
        _command_handed(command=command, state=Command.SENT, at=now, subscriber_seen=subscriber_seen)


def _command_handed(*, command: Command, state: str, at: datetime, subscriber_seen: bool = False) -> bool:
    """Record a hand-over; False when the command finished meanwhile (another path took it)."""
    updates: dict[str, Any] = {"attempts": F("attempts") + 1, "state": state}
    if state == Command.SENT:
        updates["sent_at"] = at
    else:
        updates["delivered_at"] = at
    # Only from queued or sent: an HTTP delivery never steps back to "sent".
    claimed = Command.objects.filter(pk=command.pk, finished_at__isnull=True, state__in=[Command.QUEUED, Command.SENT])
    if command.oneway and (state == Command.DELIVERED or not command.persistent or subscriber_seen):
        updates["finished_at"] = at  # nothing more will come of it
    claimed_it = bool(claimed.update(**updates))
    command.refresh_from_db()  # a fast device may have answered already
    if not claimed_it:
        return False
    command_push_live(command=command)
    return True


def command_take_for_http(*, device: Device) -> Command | None:
    """The device's oldest command not yet handed to it over HTTP, now delivered.

    Taken once: a device polling again while it works on a command does not get it a
    second time. Two polls at once cannot both take one command (a conditional update).
    """
    commands_expire(device=device)
    now = timezone.now()
    for _attempt in range(5):
        command = (
            Command.objects.filter(
                device=device, finished_at__isnull=True, expires_at__gt=now, state__in=[Command.QUEUED, Command.SENT]
            )
            .order_by("id")
            .first()
        )
        if command is None:
            return None
        if _command_handed(command=command, state=Command.DELIVERED, at=now):
            return command
    return None


def command_reply(*, device: Device, command_id: Any, response: Any) -> Command:
    """The device's answer. An object with an "error" key fails the command; anything else succeeds."""
    try:
        command = Command.objects.get(device=device, pk=int(command_id))
    except (Command.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("This device has no such command.") from None
    if json_size(response) > settings.COMMAND_MAX_RESPONSE_BYTES:
        raise ValidationError({"response": [f"Larger than {settings.COMMAND_MAX_RESPONSE_BYTES} bytes of JSON."]})
    commands_expire(device=device)
    state = Command.FAILED if isinstance(response, dict) and "error" in response else Command.SUCCEEDED
    now = timezone.now()
    answered = Command.objects.filter(pk=command.pk, finished_at__isnull=True, oneway=False).update(
        state=state, response=response, finished_at=now
    )
    if not answered:
        raise CommandFinished()
    command.refresh_from_db()
    command_push_live(command=command)
    return command


def commands_expire(*, device: Device | None = None) -> int:
    """Open commands past their expiry become expired (looked at on every read: no timer)."""
    now = timezone.now()
    overdue = Command.objects.filter(finished_at__isnull=True, expires_at__lte=now)
    if device is not None:
        overdue = overdue.filter(device=device)
    ids = list(overdue.values_list("pk", flat=True)[:1000])
    if not ids:
        return 0
    count = Command.objects.filter(pk__in=ids, finished_at__isnull=True).update(state=Command.EXPIRED, finished_at=now)
    for command in Command.objects.filter(pk__in=ids).select_related("device"):
        command_push_live(command=command)
    return count


def commands_resend_persistent(*, device: Device) -> int:
    """The device (re)subscribed to its commands: send its open persistent ones again.
    This is what makes persistent commands at-least-once over MQTT."""
    commands_expire(device=device)
    pending = list(
        Command.objects.filter(
            device=device,
            persistent=True,
            finished_at__isnull=True,
            state__in=[Command.QUEUED, Command.SENT],
        ).order_by("id")
    )
    commands_send_mqtt(commands=pending, subscriber_seen=True)
    return len(pending)


def commands_prune(*, older_than: timedelta, batch: int = 5000) -> int:
    """Delete finished commands whose end lies further back than `older_than`, in small
    batches (each its own short transaction) so devices are never held up."""
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        ids = list(
            Command.objects.filter(finished_at__isnull=False, finished_at__lt=cutoff).values_list("pk", flat=True)[
                :batch
            ]
        )
        if not ids:
            return deleted
        deleted += Command.objects.filter(pk__in=ids).delete()[0]


def commands_stop_on_revoke(sender: Any, *, device: Device, **kwargs: Any) -> None:
    """A revoked device can no longer fetch or answer: its open commands fail now."""
    now = timezone.now()
    open_commands = Command.objects.filter(device=device, finished_at__isnull=True)
    ids = list(open_commands.values_list("pk", flat=True))
    Command.objects.filter(pk__in=ids).update(state=Command.FAILED, response=REVOKED, finished_at=now)
    for command in Command.objects.filter(pk__in=ids).select_related("device"):
        command_push_live(command=command)


def command_as_json(command: Command) -> dict[str, Any]:
    def stamp(moment: datetime | None) -> str | None:
        return iso_utc(moment) if moment is not None else None

    return {
        "id": command.pk,
        "device": command.device_id,
        "method": command.method,
        "params": command.params,
        "oneway": command.oneway,
        "persistent": command.persistent,
        "state": command.state,
        "response": command.response,
        "attempts": command.attempts,
        "created_at": stamp(command.created_at),
        "expires_at": stamp(command.expires_at),
        "sent_at": stamp(command.sent_at),
        "delivered_at": stamp(command.delivered_at),
        "finished_at": stamp(command.finished_at),
    }


def command_push_live(*, command: Command) -> None:
    live_send(
        user_id=command.device.owner_id,
        device_id=command.device_id,
        message={"type": "command", "device": command.device_id, "command": command_as_json(command)},
    )


# --- client-side RPC (the device asks the server) -----------------------------------------


def session_limits() -> dict[str, Any]:
    """The answer to getSessionLimits, which ThingsBoard's SDKs ask on connect.
    rateLimits empty: the broker imposes none per device (HTTP has its own throttle)."""
    return {
        "maxPayloadSize": settings.TELEMETRY_MAX_BODY_BYTES,
        "maxInflightMessages": MAX_INFLIGHT_MESSAGES,
        "rateLimits": {},
    }


def client_rpc_answer(*, device: Device, method: Any, params: Any) -> dict[str, Any]:
    if method == "getSessionLimits":
        return session_limits()
    if method == "getCurrentTime":
        return {"time": int(time.time() * 1000)}
    return {"error": f"Unknown method {method!r}: this server answers getSessionLimits and getCurrentTime."}
