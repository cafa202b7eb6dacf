"""Digital displays: offered on the create-device form, and their card shows the latest
value for the page to draw as a seven-segment readout, with the unit."""

import re
from datetime import UTC, datetime

import pytest

from devices.models import Device
from devices.services import device_create
from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def send(device, value: float) -> None:
    now = datetime.now(UTC)
    readings_ingest(device=device, readings=[ParsedReading("value", now, value)], received_at=now)


def test_the_create_form_offers_a_digital_display(signed_in):
    page = signed_in.get("/devices/new/").content.decode()
    assert '<option value="digital_display">Digital display</option>' in page


def test_a_digital_display_is_created_with_its_unit_and_no_scale(signed_in, user):
    response = signed_in.post(
        "/devices/new/", {"name": "Flow meter", "type": "digital_display", "unit": "L/min", "min": "0", "max": "9"}
    )
    device = Device.objects.get(owner=user, name="Flow meter")
    assert response.status_code == 302
    assert (device.type, device.config) == ("digital_display", {"unit": "L/min"})


def test_the_card_holds_the_value_for_the_seven_segment_readout_with_the_unit(signed_in, user):
    display, _token = device_create(owner=user, name="Flow meter", type="digital_display", config={"unit": "L/min"})
    send(display, -12.5)
    page = signed_in.get("/").content.decode()
    readout = re.search(r'<p class="reading-value display-panel">.*?</p>', page, re.S).group(0)
    assert 'data-seven-segment="-12.5"' in readout
    assert '<span class="unit">L/min</span>' in readout
    assert "data-gauge" not in page


def test_the_readout_follows_the_displays_calibrated_digits_and_decimals(signed_in, user):
    calibration = {"kind": "seven_segment", "roi": None, "digits": 4, "decimals": 2}
    display, _token = device_create(
        owner=user, name="Scale", type="digital_display", config={"unit": "kg", "calibration": calibration}
    )
    send(display, 3.1)
    page = signed_in.get("/").content.decode()
    assert re.search(r'data-seven-segment="3.1" data-decimals="2" data-digits="4"', page)


@pytest.mark.parametrize("calibration", [{"digits": "4", "decimals": True}, {"digits": 0, "decimals": 99}, {}])
def test_a_calibration_without_usable_counts_leaves_the_readout_free(signed_in, user, calibration):
    display, _token = device_create(
        owner=user, name="Scale", type="digital_display", config={"calibration": calibration}
    )
    send(display, 3.1)
    page = signed_in.get("/").content.decode()
    assert 'data-seven-segment="3.1">' in page


def test_a_display_without_readings_says_so(signed_in, user):
    device_create(owner=user, name="Flow meter", type="digital_display", config={"unit": "L/min"})
    page = signed_in.get("/").content.decode()
    assert "No readings yet." in page
    assert "data-seven-segment" not in page


def test_other_devices_keep_the_plain_number(signed_in, device):
    send(device, 7)
    page = signed_in.get("/").content.decode()
    assert 'data-number="7.0"' in page
    assert "data-seven-segment" not in page
