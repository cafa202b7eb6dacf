import pytest

pytestmark = pytest.mark.django_db


def rename(client, device, name):
    return client.patch(f"/api/devices/{device.pk}/", {"name": name}, format="json")


def test_a_new_name_is_saved(api_client, device):
    response = rename(api_client, device, "Boiler room")
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.name == "Boiler room"


def test_the_same_name_is_accepted_unchanged(api_client, device):
    assert rename(api_client, device, "Boiler").status_code == 200


def test_a_case_change_of_its_own_name_is_allowed(api_client, device):
    assert rename(api_client, device, "BOILER").json()["name"] == "BOILER"


def test_another_devices_name_is_refused(api_client, device):
    api_client.post("/api/devices/", {"name": "Pump"})
    response = rename(api_client, device, "pump ")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    device.refresh_from_db()
    assert device.name == "Boiler"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_blank_or_too_long_names_are_refused(api_client, device, name):
    response = rename(api_client, device, name)
    assert response.status_code == 400
    assert "name" in response.json()


def test_changing_the_type_revalidates_the_config(api_client, device):
    response = api_client.patch(f"/api/devices/{device.pk}/", {"type": "analog_gauge"}, format="json")
    assert response.status_code == 400
    assert "unit" in response.json()["config"]
