from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from protocols.bridge.services import StateReader
from protocols.models import BridgeBroker, BridgedEntity


def brokers_of_user(*, user) -> QuerySet[BridgeBroker]:
    return BridgeBroker.objects.filter(owner=user)


def broker_get_for_user(*, user, broker_id) -> BridgeBroker:
    """The user's broker; another user's is a 404, like a missing one."""
    return get_object_or_404(brokers_of_user(user=user), pk=broker_id)


def brokers_enabled() -> list[BridgeBroker]:
    return list(BridgeBroker.objects.filter(enabled=True).select_related("owner").order_by("id"))


def state_readers_of_broker(*, broker_id: int) -> dict[str, list[StateReader]]:
    """state topic → how to read each entity published there."""
    readers: dict[str, list[StateReader]] = defaultdict(list)
    entities = BridgedEntity.objects.filter(broker_id=broker_id).select_related("bridged_device").order_by("id")
    for entity in entities:
        readers[entity.state_topic].append(StateReader.of(entity))
    return dict(readers)
