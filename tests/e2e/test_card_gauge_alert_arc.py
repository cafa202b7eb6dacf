"""An analog gauge's dial draws red arcs past its alert bounds."""

import math

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.dashboard_scene import dashboard_scene
from tests.support.browsers import check_both_widths

R_ALERT = 48 - 7  # gauge.js: the alert arcs run inside the track
DEGREES_PER_UNIT = 270 / 10  # a 0..10 scale on a 270° dial


def arc_length(degrees: float) -> float:
    return 2 * math.pi * R_ALERT * degrees / 360


def arc_points(arc) -> tuple[tuple[float, float], tuple[float, float]]:
    """An arc path's start and end: "M x0 y0 A r r 0 large 1 x1 y1"."""
    parts = arc.get_attribute("d").split()
    return (float(parts[1]), float(parts[2])), (float(parts[-2]), float(parts[-1]))


def clock_angle(x: float, y: float) -> float:
    """Degrees clockwise from 12 o'clock around the dial's centre (60, 60)."""
    return math.degrees(math.atan2(x - 60, 60 - y)) % 360


@pytest.fixture
def scene(user):
    return dashboard_scene(user)


def test_the_gauge_is_red_from_each_end_of_its_scale_to_the_alert_bound(signed_in_page: Page, scene):
    page = signed_in_page
    page.reload()
    card = page.locator(f'.device-card[data-device-id="{scene.gauge.pk}"]')
    arcs = card.locator(".gauge-alert")
    expect(arcs).to_have_count(2)
    lower_arc, upper_arc = (arcs.nth(index).evaluate("arc => arc.getTotalLength()") for index in range(2))
    assert lower_arc == pytest.approx(arc_length(2 * DEGREES_PER_UNIT), rel=0.01)  # 0 → 2
    assert upper_arc == pytest.approx(arc_length((10 - 8) * DEGREES_PER_UNIT), rel=0.01)  # 8 → 10
    assert arcs.first.evaluate("arc => getComputedStyle(arc).stroke") == "rgb(198, 40, 40)"
    # The lower arc starts where the scale does (7:30), the upper one ends where it ends (4:30).
    assert clock_angle(*arc_points(arcs.first)[0]) == pytest.approx(225, abs=0.5)
    assert clock_angle(*arc_points(arcs.nth(1))[1]) == pytest.approx(135, abs=0.5)


def test_a_gauge_without_rules_has_no_red_arc(signed_in_page: Page, scene):
    from alerts.models import AlertRule

    AlertRule.objects.filter(device=scene.gauge).delete()
    page = signed_in_page
    page.reload()
    card = page.locator(f'.device-card[data-device-id="{scene.gauge.pk}"]')
    expect(card.locator(".gauge-needle")).to_have_count(1)
    expect(card.locator(".gauge-alert")).to_have_count(0)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_dashboard_with_alerts_looks_right_at_both_widths(signed_in_page: Page, scene, scheme):
    page = signed_in_page
    page.emulate_media(color_scheme=scheme)
    page.reload()
    expect(page.locator(".gauge-alert")).to_have_count(2)
    expect(page.locator(".seven-segment")).to_have_count(1)
    check_both_widths(page, f"dashboard-alerts-{scheme}")
