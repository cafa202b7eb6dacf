import pytest

from alerts.services import alert_rule_create
from tests.support.alerts import ingest, states

pytestmark = pytest.mark.django_db


def test_a_value_just_inside_the_bound_does_not_clear_with_hysteresis(device):
    alert_rule_create(device=device, sensor="pressure", upper=10, hysteresis=1)
    ingest(device, ("pressure", 0, 10.5), ("pressure", 1, 9.5), ("pressure", 2, 10.2), ("pressure", 3, 9.2))
    assert states(device) == [("firing", 10.5)]


def test_a_value_inside_by_the_margin_clears(device):
    alert_rule_create(device=device, sensor="pressure", upper=10, hysteresis=1)
    ingest(device, ("pressure", 0, 10.5), ("pressure", 1, 9))
    assert states(device) == [("firing", 10.5), ("resolved", 9)]


def test_hysteresis_applies_to_the_lower_bound_too(device):
    alert_rule_create(device=device, sensor="pressure", lower=2, hysteresis=0.5)
    ingest(device, ("pressure", 0, 1), ("pressure", 1, 2.2), ("pressure", 2, 2.5))
    assert states(device) == [("firing", 1), ("resolved", 2.5)]


def test_without_hysteresis_a_noisy_value_flaps(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 10.1), ("pressure", 1, 9.9), ("pressure", 2, 10.1))
    assert [state for state, _value in states(device)] == ["firing", "resolved", "firing"]
