import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", ["plots/", "connect/", "token.json"])
def test_another_users_device_is_not_found(client, other_user, device, suffix):
    client.force_login(other_user)
    assert client.get(f"/devices/{device.pk}/{suffix}").status_code == 404


def test_a_missing_device_is_not_found_alike(client, user):
    client.force_login(user)
    assert client.get("/devices/999999/plots/").status_code == 404


def test_the_dashboard_lists_only_my_devices(client, user, other_user, device):
    from devices.services import device_create

    device_create(owner=other_user, name="Bobs secret pump", type="generic")
    client.force_login(user)
    page = client.get("/").content.decode()
    assert "Boiler" in page
    assert "Bobs secret pump" not in page


def test_the_token_is_given_to_its_owner_uncached(client, user, device, device_token):
    client.force_login(user)
    response = client.get(f"/devices/{device.pk}/token.json")
    assert response.json()["token"] == device_token
    assert "no-store" in response["Cache-Control"]


def test_the_card_refresh_holds_only_my_devices(client, user, other_user, device):
    from devices.services import device_create

    device_create(owner=other_user, name="Bobs pump", type="generic")
    client.force_login(user)
    cards = client.get("/cards.json").json()["cards"]
    assert [card["id"] for card in cards] == [device.pk]
    assert "No readings yet." in cards[0]["reading_html"]


def test_a_missing_page_is_a_friendly_404(client, user, settings):
    settings.DEBUG = False
    client.force_login(user)
    response = client.get("/devices/999999/plots/")
    assert response.status_code == 404
    assert "Go to the dashboard" in response.content.decode()


def test_an_api_404_stays_json(api_client):
    response = api_client.get("/api/devices/999999/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
