import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import evaluation
from alerts.models import AlertRule, RuleSetVersion
from alerts.services import alert_rule_create, alert_rule_delete, alert_rule_update
from tests.support.alerts import ingest, states

pytestmark = pytest.mark.django_db


def alert_queries_of(callable_) -> int:
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len([query for query in captured.captured_queries if "alerts_" in query["sql"]])


def test_evaluation_costs_the_same_queries_for_ten_or_a_thousand_readings(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    alert_rule_create(device=device, sensor="pressure", lower=0)
    ingest(device, ("pressure", 0, 5))  # sensor created, rules cached
    few = alert_queries_of(lambda: ingest(device, *[("pressure", 1 + i, 5) for i in range(10)]))
    many = alert_queries_of(lambda: ingest(device, *[("pressure", 100 + i, 5) for i in range(1000)]))
    assert few == many <= 2  # lock the rules, write their state


def test_readings_of_sensors_without_rules_cost_no_rule_query(device):
    alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("temperature", 0, 5), ("pressure", 0, 5))
    with CaptureQueriesContext(connection) as captured:
        ingest(device, ("temperature", 1, 5))
    assert not [query for query in captured.captured_queries if "alerts_alertrule" in query["sql"]]


def test_a_rule_changed_by_another_process_is_seen_within_a_second(device, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(evaluation.time, "monotonic", lambda: clock[0])
    ingest(device, ("pressure", 0, 50))  # this process caches "no rules"
    # Another process adds a rule: its own cache is dropped, ours only sees the version move.
    AlertRule.objects.create(device=device, sensor="pressure", upper=10)
    RuleSetVersion.objects.filter(pk=1).update(version=12345)
    clock[0] += 0.5
    ingest(device, ("pressure", 1, 50))
    assert states(device) == []
    clock[0] += 0.6
    ingest(device, ("pressure", 2, 50))
    assert states(device) == [("firing", 50)]


def test_changed_bounds_apply_to_the_next_reading(device):
    rule = alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 8))
    alert_rule_update(rule=rule, upper=5)
    ingest(device, ("pressure", 1, 8))
    assert states(device) == [("firing", 8)]


def test_a_deleted_rule_stops_at_once(device):
    rule = alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 8))
    alert_rule_delete(rule=rule)
    ingest(device, ("pressure", 1, 80))
    assert states(device) == []


def test_disabling_a_firing_rule_resolves_it(device):
    rule = alert_rule_create(device=device, sensor="pressure", upper=10)
    ingest(device, ("pressure", 0, 80))
    alert_rule_update(rule=rule, enabled=False)
    assert states(device) == [("firing", 80), ("resolved", None)]
    assert AlertRule.objects.get().state == AlertRule.OK


def test_the_version_row_is_recreated_when_missing(device):
    RuleSetVersion.objects.all().delete()
    alert_rule_create(device=device, sensor="pressure", upper=10)
    assert RuleSetVersion.objects.get(pk=1).version == 1
