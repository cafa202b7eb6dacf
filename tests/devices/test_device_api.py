import pytest

from devices.models import Device

pytestmark = pytest.mark.django_db

URL = "/api/devices/"
GAUGE = {"name": "Pump", "type": "analog_gauge", "config": {"unit": "bar", "min": 0, "max": 10}}


def test_it_creates_several_devices_for_a_user(api_client, user):
    for name in ["Boiler", "Pump", "Tank"]:
        response = api_client.post(URL, {"name": name, "type": "generic"})
        assert response.status_code == 201
        assert response.json()["token"].startswith("iotd_")
    assert user.devices.count() == 3


def test_create_answers_the_full_device(api_client):
    body = api_client.post(URL, {**GAUGE, "description": "north wall"}).json()
    assert {"id", "name", "type", "description", "config", "sensors", "created_at", "last_seen_at"} <= set(body)
    assert body["config"] == GAUGE["config"]
    assert body["sensors"] == []
    assert body["last_seen_at"] is None


def test_the_list_holds_only_my_devices(api_client, other_client):
    api_client.post(URL, {"name": "Mine"})
    other_client.post(URL, {"name": "Theirs"})
    names = [d["name"] for d in api_client.get(URL).json()["results"]]
    assert names == ["Mine"]


def test_a_listed_device_never_carries_its_token(api_client):
    api_client.post(URL, {"name": "Mine"})
    assert "token" not in api_client.get(URL).json()["results"][0]


def test_names_are_trimmed(api_client):
    assert api_client.post(URL, {"name": "  Boiler  "}).json()["name"] == "Boiler"


def test_a_name_clash_in_any_case_is_a_400_naming_name(api_client):
    api_client.post(URL, {"name": "Boiler"})
    response = api_client.post(URL, {"name": " boiler"})
    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_two_users_may_use_the_same_name(api_client, other_client):
    assert api_client.post(URL, {"name": "Boiler"}).status_code == 201
    assert other_client.post(URL, {"name": "Boiler"}).status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "A", "type": "Not a slug!"}, "type"),
        ({"name": "A", "config": [1, 2]}, "config"),
        ({"name": "A", "config": "text"}, "config"),
        ({"name": "A", "description": "d" * 2001}, "description"),
    ],
)
def test_bad_fields_are_named(api_client, body, field):
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    "config, bad_key",
    [
        ({"min": 0, "max": 10}, "unit"),
        ({"unit": "bar", "max": 10}, "min"),
        ({"unit": "bar", "min": 10, "max": 10}, "max"),
        ({"unit": "bar", "min": 5, "max": 1}, "max"),
        ({"unit": "bar", "min": "0", "max": 10}, "min"),
        ({"unit": "", "min": 0, "max": 10}, "unit"),
        ({"unit": "bar", "min": 0, "max": 10, "calibration": "yes"}, "calibration"),
    ],
)
def test_an_analog_gauge_config_is_validated(api_client, config, bad_key):
    response = api_client.post(URL, {"name": "G", "type": "analog_gauge", "config": config}, format="json")
    assert response.status_code == 400
    assert bad_key in response.json()["config"]


def test_an_unknown_type_is_an_open_slug(api_client):
    response = api_client.post(URL, {"name": "Weather", "type": "weather_station", "config": {"any": 1}})
    assert response.status_code == 201
    assert response.json()["type"] == "weather_station"


def test_delete_removes_the_device(api_client, device):
    assert api_client.delete(f"{URL}{device.pk}/").status_code == 204
    assert not Device.objects.filter(pk=device.pk).exists()


def test_the_api_needs_a_user(anon_client):
    assert anon_client.get(URL).status_code == 401
    assert anon_client.post(URL, {"name": "x"}).status_code == 401


def test_a_retention_is_set_at_creation(api_client):
    body = api_client.post(URL, {"name": "Short-lived", "retention_days": 7}, format="json").json()
    assert body["retention_days"] == 7
    assert Device.objects.get(pk=body["id"]).retention_days == 7


@pytest.mark.parametrize("days", [0, -1, 36_501, "week"])
def test_a_bad_retention_is_refused(api_client, days):
    response = api_client.post(URL, {"name": "X", "retention_days": days}, format="json")
    assert response.status_code == 400
    assert "retention_days" in response.json()
