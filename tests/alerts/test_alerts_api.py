import pytest

from alerts.models import AlertEvent
from alerts.services import alert_rule_create
from devices.services import device_create
from tests.support.alerts import ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(device, user):
    other, _token = device_create(owner=user, name="Other", type="generic")
    alert_rule_create(device=device, sensor="pressure", upper=10)
    alert_rule_create(device=other, sensor="level", lower=0)
    ingest(device, ("pressure", 0, 11), ("pressure", 60, 3), ("pressure", 120, 12))
    ingest(other, ("level", 30, -1))
    return device, other


def test_alerts_are_listed_newest_first_with_the_badge_count(api_client, history):
    body = api_client.get("/api/alerts/").json()
    assert [(e["sensor"], e["state"], e["value"]) for e in body["results"]] == [
        ("pressure", "firing", 12),
        ("pressure", "resolved", 3),
        ("level", "firing", -1),
        ("pressure", "firing", 11),
    ]
    assert body["count"] == 4
    assert body["unacknowledged"] == 3
    assert body["results"][0]["device_name"] == "Boiler"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=resolved", [3]),
        ("start=2026-01-01T12:01:00Z", [12, 3]),
        ("end=2026-01-01T12:01:00Z", [-1, 11]),
        ("start=2026-01-01T13:00:00%2B01:00&end=2026-01-01T12:01:00Z", [-1, 11]),
        ("acknowledged=false&state=firing", [12, -1, 11]),
    ],
)
def test_alerts_are_filtered(api_client, history, query, expected):
    results = api_client.get(f"/api/alerts/?{query}").json()["results"]
    assert [event["value"] for event in results] == expected


def test_alerts_are_filtered_by_device(api_client, history):
    _device, other = history
    results = api_client.get(f"/api/alerts/?device={other.pk}").json()["results"]
    assert [event["sensor"] for event in results] == ["level"]


def test_alerts_are_paginated(api_client, history):
    body = api_client.get("/api/alerts/?limit=2&offset=1").json()
    assert [event["value"] for event in body["results"]] == [3, -1]
    assert body["next"] is not None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=burning", "state"),
        ("start=yesterday", "start"),
        ("device=x", "device"),
        ("acknowledged=maybe", "acknowledged"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(api_client, history, query, field):
    response = api_client.get(f"/api/alerts/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_an_alert_is_acknowledged_and_leaves_the_badge(api_client, history):
    event = AlertEvent.objects.filter(state="firing").first()
    response = api_client.post(f"/api/alerts/{event.pk}/ack/")
    assert response.status_code == 200
    assert response.json()["acknowledged"] is True
    assert response.json()["acknowledged_at"] is not None
    assert api_client.get("/api/alerts/").json()["unacknowledged"] == 2
    assert api_client.post(f"/api/alerts/{event.pk}/ack/").status_code == 200  # again: no change, no error


def test_acknowledging_a_missing_alert_is_not_found(api_client):
    assert api_client.post("/api/alerts/999999/ack/").status_code == 404


@pytest.mark.django_db
def test_an_odd_utc_offset_in_the_history_filter_is_read_as_utc(api_client):
    response = api_client.get("/api/alerts/", {"start": "0900-04-13T04:21:08+22:43"})
    assert response.status_code == 200
