"""An analog gauge's card carries the bounds of the alert rules on its `value` sensor,
for its dial to draw in red."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.selectors import alert_bounds_by_device
from alerts.services import alert_rule_create
from devices.services import device_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def gauge(user):
    device, _token = device_create(
        owner=user, name="Boiler gauge", type="analog_gauge", config={"unit": "bar", "min": 0, "max": 10}
    )
    return device


def gauge_tag(client, user) -> str:
    client.force_login(user)
    page = client.get("/").content.decode()
    return re.search(r"<div class=\"gauge\" data-gauge[^>]*>", page).group(0)


def test_the_gauge_carries_a_lower_and_an_upper_bound(client, user, gauge):
    alert_rule_create(device=gauge, sensor="value", lower=1.5, upper=8)
    tag = gauge_tag(client, user)
    assert 'data-lower="1.5"' in tag
    assert 'data-upper="8.0"' in tag


def test_one_bound_alone_draws_one_arc(client, user, gauge):
    alert_rule_create(device=gauge, sensor="value", upper=9)
    tag = gauge_tag(client, user)
    assert "data-lower" not in tag
    assert 'data-upper="9.0"' in tag


def test_several_rules_show_where_any_of_them_fires(client, user, gauge):
    alert_rule_create(device=gauge, sensor="value", lower=1, upper=9)
    alert_rule_create(device=gauge, sensor="value", lower=2)
    alert_rule_create(device=gauge, sensor="value", upper=7)
    assert alert_bounds_by_device(user=user, sensor="value") == {gauge.pk: (2, 7)}


def test_disabled_rules_other_sensors_and_silence_rules_draw_nothing(client, user, gauge):
    alert_rule_create(device=gauge, sensor="value", lower=1, upper=9, enabled=False)
    alert_rule_create(device=gauge, sensor="temperature", lower=1, upper=9)
    alert_rule_create(device=gauge, sensor="value", kind="silence", duration_s=60)
    tag = gauge_tag(client, user)
    assert "data-lower" not in tag and "data-upper" not in tag


def test_another_users_rules_are_not_mine(user, other_user, gauge):
    theirs, _token = device_create(
        owner=other_user, name="Bobs gauge", type="analog_gauge", config={"unit": "bar", "min": 0, "max": 10}
    )
    alert_rule_create(device=theirs, sensor="value", lower=1)
    assert alert_bounds_by_device(user=user, sensor="value") == {}
    assert alert_bounds_by_device(user=other_user, sensor="value") == {theirs.pk: (1, None)}


def test_the_card_refresh_carries_the_bounds_too(client, user, gauge):
    alert_rule_create(device=gauge, sensor="value", lower=3)
    client.force_login(user)
    [card] = client.get("/cards.json").json()["cards"]
    assert 'data-lower="3.0"' in card["reading_html"]


def test_the_dashboards_queries_do_not_grow_with_its_devices(client, user, gauge):
    client.force_login(user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured)

    before = queries()
    for number in range(3):
        more, _token = device_create(
            owner=user, name=f"Gauge {number}", type="analog_gauge", config={"unit": "bar", "min": 0, "max": 10}
        )
        alert_rule_create(device=more, sensor="value", lower=1, upper=9)
        alert_rule_create(device=more, sensor="", kind="silence", duration_s=60)
    assert queries() == before
