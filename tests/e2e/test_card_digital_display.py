"""A digital display's card shows its value as a seven-segment readout, with the unit."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.dashboard_scene import dashboard_scene


@pytest.fixture
def scene(user):
    return dashboard_scene(user)


def lit(cell) -> str:
    return "".join(cell.locator(".segment-on").evaluate_all("parts => parts.map(p => p.dataset.segment)"))


def test_the_display_reads_as_seven_segments_with_the_unit(signed_in_page: Page, scene):
    page = signed_in_page
    page.reload()
    card = page.locator(f'.device-card[data-device-id="{scene.display.pk}"]')
    readout = card.get_by_role("img", name="Display reads -12.5 L/min")
    expect(readout).to_be_visible()
    cells = readout.locator("[data-glyph]")
    expect(cells).to_have_count(4)  # "-", "1", "2." and "5": the point sits in the 2's cell
    assert [cells.nth(i).get_attribute("data-glyph") for i in range(4)] == ["-", "1", "2", "5"]
    assert [lit(cells.nth(i)) for i in range(4)] == ["g", "bc", "abdegdp", "acdfg"]
    expect(card.locator(".display-panel .unit")).to_have_text("L/min")
    assert page.evaluate("[...document.fonts].length") == 0  # no web font: the segments are drawn


def test_the_display_follows_its_calibrated_digits_and_decimals(signed_in_page: Page, scene):
    scene.display.config = {"unit": "L/min", "calibration": {"kind": "seven_segment", "digits": 6, "decimals": 2}}
    scene.display.save(update_fields=["config"])
    page = signed_in_page
    page.reload()
    readout = page.get_by_role("img", name="Display reads -12.50 L/min")
    cells = readout.locator("[data-glyph]")
    expect(cells).to_have_count(6)  # a blank position before "-12.50" on a 6-position panel
    assert cells.first.get_attribute("data-glyph") == " "
    assert lit(cells.first) == ""
