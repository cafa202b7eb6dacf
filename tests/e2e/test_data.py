import csv
import io
import math
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.support.browsers import check_both_widths


@pytest.fixture
def device_with_data(signed_in_page: Page, device, device_token):
    """Two sensors through the telemetry API: a reading every 2 s for the last hour
    (more than one plot shows raw) and one a minute for the last week."""
    now = datetime.now(UTC).replace(microsecond=0)
    batch = [
        {"ts": (now - timedelta(seconds=2 * i)).isoformat(), "values": {"pressure": 5 + 3 * math.cos(i / 150)}}
        for i in range(1800)
    ]
    batch += [
        {"ts": (now - timedelta(minutes=i)).isoformat(), "values": {"temperature": 20 + math.sin(i / 300)}}
        for i in range(0, 7 * 24 * 60, 5)
    ]
    response = signed_in_page.request.post(
        "/api/telemetry/", data=batch, headers={"Authorization": f"Device {device_token}"}
    )
    assert response.status == 201, response.text()
    return device


def test_plots_are_drawn_from_the_bucketed_readings(signed_in_page: Page, device_with_data, uplot_installed):
    page = signed_in_page
    page.goto("/")
    page.get_by_role("link", name="Open plots").click()
    expect(page.get_by_role("heading", name="Boiler")).to_be_visible()
    pressure = page.locator('.plot-card[data-sensor="pressure"]')
    temperature = page.locator('.plot-card[data-sensor="temperature"]')
    for card in (pressure, temperature):
        expect(card.locator("canvas")).to_have_count(1)
    expect(pressure).to_have_attribute("data-kind", "buckets")
    expect(pressure.locator("[data-plot-note]")).to_contain_text("buckets of")
    assert int(pressure.get_attribute("data-points")) > 100
    check_both_widths(page, "plots")

    page.get_by_role("radio", name="Week").check()
    expect(temperature.locator("[data-plot-note]")).to_contain_text("buckets of 15 min")

    # Drag across the plot to zoom in: the server is asked again for the narrower range.
    area = pressure.locator(".u-over")
    expect(pressure.locator("[data-plot-note]")).to_contain_text("buckets of 15 min")
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.99, box["y"] + 40, steps=5)
    page.mouse.up()
    expect(page.get_by_role("button", name="Reset zoom")).to_be_visible()
    expect(pressure).to_have_attribute("data-kind", "raw")
    page.get_by_role("button", name="Reset zoom").click()
    expect(pressure).to_have_attribute("data-kind", "buckets")

    page.get_by_role("radio", name="Custom").check()
    expect(page.get_by_label("From", exact=True)).to_be_focused()
    page.get_by_label("From", exact=True).fill("2020-01-01T00:00")
    page.get_by_label("To", exact=True).fill("2020-01-02T00:00")
    page.get_by_role("button", name="Show").click()
    expect(pressure.locator(".plot-empty")).to_contain_text("No readings from")


def test_a_device_without_readings_says_what_to_do(signed_in_page: Page, device):
    page = signed_in_page
    page.goto(f"/devices/{device.pk}/plots/")
    expect(page.get_by_role("heading", name="No readings yet")).to_be_visible()


def test_the_csv_download_holds_the_filtered_readings(signed_in_page: Page, device_with_data):
    page = signed_in_page
    page.get_by_role("link", name="Download").first.click()
    page.get_by_label("Device").select_option(label="Boiler")
    page.get_by_label("Sensor").fill("pressure")
    check_both_widths(page, "download")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert rows[0] == ["device_id", "device_name", "sensor", "timestamp", "value"]
    assert len(rows) == 1 + 1800
    assert {row[2] for row in rows[1:]} == {"pressure"}
    assert rows[1][0] == str(device_with_data.pk) and rows[1][1] == "Boiler"
