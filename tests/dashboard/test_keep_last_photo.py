"""The owner turns keeping a gauge's last photo on and off from the device page."""

import pytest

from devices.services import device_delete, device_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo_gauge(device, tmp_path, settings):
    settings.TELEMETRY_LAST_IMAGE_DIR = str(tmp_path)
    config = {"unit": "bar", "calibration": {"kind": "dial", "min_value": 0, "max_value": 10}}
    return device_update(device=device, type="analog_gauge", config=config)


def kept_folder(device, tmp_path):
    folder = tmp_path / str(device.pk)
    folder.mkdir(exist_ok=True)
    for name in ("photo.jpg", "overlay.png", "outcome.json"):
        (folder / name).write_text("{}")
    return folder


def url(device):
    return f"/devices/{device.pk}/keep-last-image/"


def test_the_owner_turns_it_on(client, user, photo_gauge):
    client.force_login(user)
    response = client.post(url(photo_gauge), {"keep_last_image": "on"})
    assert response.status_code == 302 and response["Location"] == f"/devices/{photo_gauge.pk}/plots/"
    photo_gauge.refresh_from_db()
    assert photo_gauge.config["keep_last_image"] is True
    assert photo_gauge.config["calibration"]["kind"] == "dial"  # the rest of the config is kept
    page = client.get(f"/devices/{photo_gauge.pk}/plots/").content.decode()
    assert 'name="keep_last_image" checked' in page


def test_turning_it_off_forgets_the_kept_photo(client, user, photo_gauge, tmp_path):
    device_update(device=photo_gauge, config={**photo_gauge.config, "keep_last_image": True})
    folder = kept_folder(photo_gauge, tmp_path)
    client.force_login(user)
    client.post(url(photo_gauge), {})
    photo_gauge.refresh_from_db()
    assert "keep_last_image" not in photo_gauge.config
    assert not folder.exists()


def test_another_users_device_is_404_and_unchanged(client, other_user, photo_gauge):
    client.force_login(other_user)
    assert client.post(url(photo_gauge), {"keep_last_image": "on"}).status_code == 404
    photo_gauge.refresh_from_db()
    assert "keep_last_image" not in photo_gauge.config


def test_it_is_post_only_and_needs_a_log_in(client, user, photo_gauge):
    assert client.post(url(photo_gauge), {"keep_last_image": "on"}).status_code == 302  # to the log-in page
    client.force_login(user)
    assert client.get(url(photo_gauge)).status_code == 405


def test_a_device_that_reads_no_photos_offers_no_switch(client, user, device):
    client.force_login(user)
    assert "keep_last_image" not in client.get(f"/devices/{device.pk}/plots/").content.decode()


def test_deleting_the_device_deletes_its_kept_photo(photo_gauge, tmp_path):
    folder = kept_folder(photo_gauge, tmp_path)
    device_delete(device=photo_gauge)
    assert not folder.exists()
