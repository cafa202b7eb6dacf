import pytest

pytestmark = pytest.mark.django_db

PAGES = ["/", "/devices/new/", "/download/", "/cards.json"]


@pytest.mark.parametrize("path", PAGES)
def test_it_sends_a_visitor_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_it_sends_a_visitor_away_from_device_pages(client, device):
    for path in (f"/devices/{device.pk}/plots/", f"/devices/{device.pk}/connect/", f"/devices/{device.pk}/token.json"):
        assert client.get(path).status_code == 302


def test_it_shows_the_pages_to_a_signed_in_user(client, user, device):
    client.force_login(user)
    for path in (*PAGES, f"/devices/{device.pk}/plots/", f"/devices/{device.pk}/connect/"):
        assert client.get(path).status_code == 200, path
