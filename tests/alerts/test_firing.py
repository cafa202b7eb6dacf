import pytest

from alerts.models import AlertEvent, AlertRule
from alerts.services import alert_rule_create
from tests.support.alerts import at, ingest, states

pytestmark = pytest.mark.django_db


def test_a_reading_above_the_upper_bound_fires_once(device):
    rule = alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 5), ("pressure", 1, 12), ("pressure", 2, 13))
    assert states(device) == [("firing", 12)]
    rule.refresh_from_db()
    assert rule.state == AlertRule.FIRING
    assert rule.state_since == at(1)


def test_a_reading_below_the_lower_bound_fires(device):
    alert_rule_create(device=device, sensor="pressure", lower=2)
    ingest(device, ("pressure", 0, 1.5))
    assert states(device) == [("firing", 1.5)]


def test_a_reading_on_the_bound_is_inside(device):
    alert_rule_create(device=device, sensor="pressure", lower=2, upper=10)
    ingest(device, ("pressure", 0, 2), ("pressure", 1, 10))
    assert states(device) == []


def test_back_inside_resolves_and_out_again_fires_again(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 11), ("pressure", 1, 9), ("pressure", 2, 14))
    assert states(device) == [("firing", 11), ("resolved", 9), ("firing", 14)]


def test_transitions_across_batches_are_recorded_once_each(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 11))
    ingest(device, ("pressure", 1, 12))
    ingest(device, ("pressure", 2, 3))
    ingest(device, ("pressure", 3, 4))
    assert states(device) == [("firing", 11), ("resolved", 3)]


def test_other_sensors_of_the_device_are_not_evaluated(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("temperature", 0, 99))
    assert states(device) == []


def test_a_disabled_rule_never_fires(device):
    alert_rule_create(device=device, sensor="pressure", upper=10, enabled=False)
    ingest(device, ("pressure", 0, 99))
    assert states(device) == []


def test_a_rule_for_a_sensor_not_yet_seen_fires_on_its_first_reading(device):
    alert_rule_create(device=device, sensor="brand_new", upper=1)
    ingest(device, ("brand_new", 0, 2))
    assert states(device) == [("firing", 2)]


def test_the_event_keeps_the_bounds_it_fired_against(device):
    alert_rule_create(device=device, sensor="pressure", lower=1, upper=10)
    ingest(device, ("pressure", 0, 12))
    event = AlertEvent.objects.get()
    assert (event.sensor, event.lower, event.upper, event.ts, event.kind) == ("pressure", 1, 10, at(0), "bounds")


def test_a_rolled_back_batch_leaves_no_event(device):
    from django.db import transaction

    alert_rule_create(device=device, sensor="pressure", upper=10)
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest(device, ("pressure", 0, 12))
        raise RuntimeError("the request failed after ingest")
    assert states(device) == []
    assert AlertRule.objects.get().state == AlertRule.OK


def test_a_duplicate_reading_is_not_evaluated_twice(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 12), ("pressure", 1, 3))
    ingest(device, ("pressure", 0, 12))
    assert states(device) == [("firing", 12), ("resolved", 3)]
