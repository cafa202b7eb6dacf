"""Let other parts react to stored readings without telemetry importing them.

Alert evaluation runs inside the ingest transaction (its events and outbox rows commit
or roll back with the readings); the live push runs after the commit, so nothing is
ever pushed for a batch that did not commit. Register in an AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from devices.models import Device
from telemetry.payloads import ParsedReading

ReadingsHook = Callable[[Device, Sequence[ParsedReading]], None]

_in_transaction: list[ReadingsHook] = []
_after_commit: list[ReadingsHook] = []


def on_readings_stored(hook: ReadingsHook, *, in_transaction: bool = False) -> ReadingsHook:
    hooks = _in_transaction if in_transaction else _after_commit
    if hook not in hooks:
        hooks.append(hook)
    return hook


def in_transaction_hooks() -> list[ReadingsHook]:
    return list(_in_transaction)


def after_commit_hooks() -> list[ReadingsHook]:
    return list(_after_commit)
