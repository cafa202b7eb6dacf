import pytest

from alerts.models import AlertRule
from alerts.services import alert_rule_create
from tests.support.alerts import ingest, states

pytestmark = pytest.mark.django_db


def test_a_late_out_of_bounds_reading_does_not_fire(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 100, 5))
    ingest(device, ("pressure", 50, 99))
    assert states(device) == []


def test_a_late_inside_reading_does_not_resolve(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 100, 20))
    ingest(device, ("pressure", 50, 1))
    assert states(device) == [("firing", 20)]
    assert AlertRule.objects.get().state == AlertRule.FIRING


def test_a_late_reading_does_not_count_toward_a_duration(device):
    alert_rule_create(device=device, sensor="pressure", upper=10, duration_s=60)
    ingest(device, ("pressure", 100, 20))
    ingest(device, ("pressure", 10, 20))
    ingest(device, ("pressure", 120, 20))
    assert states(device) == []


def test_a_batch_out_of_order_is_evaluated_in_time_order(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 2, 3), ("pressure", 0, 20), ("pressure", 1, 20))
    assert states(device) == [("firing", 20), ("resolved", 3)]
