"""Each device card links to the device's alert-rules panel."""

import pytest

pytestmark = pytest.mark.django_db


def test_each_card_links_to_its_alert_rules(client, user, device):
    from devices.services import device_create

    pump, _token = device_create(owner=user, name="Pump", type="generic")
    client.force_login(user)
    page = client.get("/").content.decode()
    for each in (device, pump):
        assert f'<a class="button button-small" href="/devices/{each.pk}/alerts/">Alerts</a>' in page


def test_the_linked_panel_opens_for_the_owner(client, user, device):
    client.force_login(user)
    assert client.get(f"/devices/{device.pk}/alerts/").status_code == 200
