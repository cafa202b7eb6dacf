import pytest

from alerts.services import alert_rule_create
from tests.support.alerts import ingest, states

pytestmark = pytest.mark.django_db


def test_it_fires_only_once_out_of_bounds_for_the_whole_duration(device):
    alert_rule_create(device=device, sensor="pressure", upper=10, duration_s=60)
    ingest(device, ("pressure", 0, 11), ("pressure", 30, 12), ("pressure", 59, 12))
    assert states(device) == []
    ingest(device, ("pressure", 60, 13))
    assert states(device) == [("firing", 13)]


def test_a_reading_back_inside_restarts_the_duration(device):
    alert_rule_create(device=device, sensor="pressure", upper=10, duration_s=60)
    ingest(device, ("pressure", 0, 11), ("pressure", 40, 5), ("pressure", 50, 11), ("pressure", 100, 11))
    assert states(device) == []
    ingest(device, ("pressure", 110, 11))
    assert states(device) == [("firing", 11)]


def test_a_short_spike_never_fires(device):
    alert_rule_create(device=device, sensor="pressure", upper=10, duration_s=30)
    ingest(device, *[("pressure", second, 50 if second == 5 else 1) for second in range(60)])
    assert states(device) == []
