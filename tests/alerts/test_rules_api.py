import pytest

from alerts.models import AlertRule
from alerts.services import alert_rule_create, notification_channel_create
from devices.services import device_create

pytestmark = pytest.mark.django_db


def create(client, **body):
    return client.post("/api/alert-rules/", body, format="json")


def test_a_rule_is_created_listed_and_read(api_client, device, user):
    channel = notification_channel_create(owner=user, kind="email", address="a@example.com")
    response = create(
        api_client,
        device=device.pk,
        sensor="pressure",
        lower=1,
        upper=10,
        hysteresis=0.5,
        duration_s=30,
        channels=[channel.pk],
    )
    assert response.status_code == 201, response.json()
    rule = response.json()
    assert {
        k: rule[k]
        for k in (
            "device",
            "sensor",
            "lower",
            "upper",
            "hysteresis",
            "duration_s",
            "enabled",
            "channels",
            "state",
            "kind",
        )
    } == {
        "device": device.pk,
        "sensor": "pressure",
        "lower": 1,
        "upper": 10,
        "hysteresis": 0.5,
        "duration_s": 30,
        "enabled": True,
        "channels": [channel.pk],
        "state": "ok",
        "kind": "bounds",
    }
    assert api_client.get("/api/alert-rules/").json()["results"] == [rule]
    assert api_client.get(f"/api/alert-rules/{rule['id']}/").json() == rule


def test_a_rule_may_watch_a_sensor_that_has_not_reported_yet(api_client, device):
    assert create(api_client, device=device.pk, sensor="not_yet", upper=1).status_code == 201


def test_the_list_filters_by_device(api_client, device, user):
    other, _token = device_create(owner=user, name="Other", type="generic")
    alert_rule_create(device=device, sensor="a", upper=1)
    alert_rule_create(device=other, sensor="b", upper=1)
    rules = api_client.get(f"/api/alert-rules/?device={other.pk}").json()["results"]
    assert [rule["sensor"] for rule in rules] == ["b"]


def test_a_rule_is_patched_and_deleted(api_client, device):
    rule = alert_rule_create(device=device, sensor="pressure", upper=10)
    response = api_client.patch(f"/api/alert-rules/{rule.pk}/", {"upper": 20, "enabled": False}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["upper"], response.json()["enabled"]) == (20, False)
    assert api_client.delete(f"/api/alert-rules/{rule.pk}/").status_code == 204
    assert not AlertRule.objects.exists()


def test_a_silence_rule_needs_only_a_quiet_time(api_client, device):
    response = create(api_client, device=device.pk, kind="silence", duration_s=600)
    assert response.status_code == 201, response.json()
    assert (response.json()["sensor"], response.json()["kind"]) == ("", "silence")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sensor": "p"}, "lower"),
        ({"sensor": "p", "lower": 10, "upper": 10}, "upper"),
        ({"sensor": "p", "lower": 10, "upper": 5}, "upper"),
        ({"sensor": "p", "upper": 5, "hysteresis": -1}, "hysteresis"),
        ({"sensor": "p", "lower": 0, "upper": 2, "hysteresis": 1}, "hysteresis"),
        ({"sensor": "p", "upper": 5, "duration_s": -1}, "duration_s"),
        ({"sensor": "p", "upper": "high"}, "upper"),
        ({"upper": 5}, "sensor"),
        ({"sensor": "", "upper": 5}, "sensor"),
        ({"sensor": "x" * 65, "upper": 5}, "sensor"),
        ({"sensor": "bad\nkey", "upper": 5}, "sensor"),
        ({"sensor": "p", "upper": 5, "kind": "sometimes"}, "kind"),
        ({"sensor": "p", "upper": 5, "channels": [999999]}, "channels"),
        ({"sensor": "p", "upper": 5, "channels": "email"}, "channels"),
        ({"kind": "silence", "upper": 5, "duration_s": 60}, "lower"),
        ({"kind": "silence"}, "duration_s"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(api_client, device, body, field):
    response = create(api_client, device=device.pk, **body)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not AlertRule.objects.exists()


def test_a_patch_is_validated_against_the_stored_rule(api_client, device):
    rule = alert_rule_create(device=device, sensor="pressure", lower=1, upper=10)
    response = api_client.patch(f"/api/alert-rules/{rule.pk}/", {"lower": 11}, format="json")
    assert response.status_code == 400
    assert "upper" in response.json()


def test_a_missing_device_is_refused_naming_the_device(api_client):
    response = create(api_client, device=999999, sensor="p", upper=1)
    assert response.status_code == 400
    assert "999999" in str(response.json()["device"])


def test_a_non_numeric_device_is_refused(api_client):
    response = create(api_client, device="boiler", sensor="p", upper=1)
    assert response.status_code == 400
    assert "device" in response.json()


def test_anonymous_requests_are_refused(anon_client):
    assert anon_client.get("/api/alert-rules/").status_code == 401


def test_an_infinite_bound_is_refused(api_client, device):
    response = api_client.post(
        "/api/alert-rules/",
        b'{"device": %d, "sensor": "p", "upper": 1e999}' % device.pk,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "upper" in response.json()
