"""The per-process rule cache may be behind the rule rows; evaluation must not be."""

import pytest
from django.db import transaction
from django.utils import timezone

from alerts.models import AlertRule
from alerts.services import alert_rule_create
from tests.support.alerts import at, ingest, states

pytestmark = pytest.mark.django_db


def test_a_rule_another_worker_moved_on_is_evaluated_from_its_row(device):
    rule = alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 5))  # cached: ok, evaluated up to 0 s
    # Another worker stored a newer out-of-bounds reading and fired the rule.
    AlertRule.objects.filter(pk=rule.pk).update(state="firing", state_since=at(10), evaluated_ts=at(10))
    ingest(device, ("pressure", 5, 50))  # older than what that worker saw: no second firing
    ingest(device, ("pressure", 20, 3))  # back inside: resolves the firing this process never saw
    assert states(device) == [("resolved", 3)]
    assert AlertRule.objects.get().state == "ok"


def test_a_rolled_back_batch_does_not_leave_the_cache_believing_it(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 5))
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest(device, ("pressure", 1, 50))
        raise RuntimeError("the request failed after ingest")
    ingest(device, ("pressure", 2, 60))
    assert states(device) == [("firing", 60)]


def test_bounds_edited_elsewhere_apply_before_the_cache_notices(device):
    rule = alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 5))
    AlertRule.objects.filter(pk=rule.pk).update(upper=4, updated_at=timezone.now())
    ingest(device, ("pressure", 1, 5))
    assert states(device) == [("firing", 5)]


def test_a_rule_disabled_elsewhere_stops_before_the_cache_notices(device):
    rule = alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 5))
    AlertRule.objects.filter(pk=rule.pk).update(enabled=False)
    ingest(device, ("pressure", 1, 50))
    assert states(device) == []
