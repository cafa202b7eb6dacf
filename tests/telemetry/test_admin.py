import pytest
from django.utils import timezone

from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    django_user_model.objects.create_superuser(username="root", password="root-password-1")
    client.login(username="root", password="root-password-1")
    return client


def test_readings_are_listed_read_only(staff_client, device):
    readings_ingest(device=device, readings=[ParsedReading("t", timezone.now(), 4.5)], received_at=timezone.now())
    listing = staff_client.get("/admin/telemetry/reading/")
    assert listing.status_code == 200
    assert b"4.5" in listing.content
    assert staff_client.get("/admin/telemetry/reading/add/").status_code == 403


def test_the_device_page_never_shows_the_token(staff_client, device, device_token):
    page = staff_client.get(f"/admin/devices/device/{device.pk}/change/")
    assert page.status_code == 200
    assert device_token.encode() not in page.content
    assert device.token_digest.encode() not in page.content
