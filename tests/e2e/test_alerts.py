import pytest
from playwright.sync_api import Page, expect

from alerts.models import AlertEvent, AlertRule
from alerts.services import alert_rule_create, notification_channel_create
from tests.support.alerts import ingest
from tests.support.browsers import check_both_widths


@pytest.fixture
def fired(device, user):
    channel = notification_channel_create(owner=user, kind="email", address="alice@example.com")
    alert_rule_create(device=device, sensor="pressure", lower=1, upper=10, channels=[channel])
    ingest(device, ("pressure", 0, 12.5), ("pressure", 60, 5), ("pressure", 120, 0.5))
    return device


def test_the_alert_history_filters_and_acknowledges(signed_in_page: Page, fired):
    page = signed_in_page
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.locator("[data-alerts-badge]")).to_have_text("2")
    nav.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    rows = page.locator("[data-alert-id]")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("0.5")
    check_both_widths(page, "alerts")

    rows.first.get_by_role("button", name="Acknowledge").click()
    expect(rows.first).to_contain_text("Acknowledged")
    expect(page.get_by_role("status").filter(has_text="Alert acknowledged.")).to_be_visible()
    expect(nav.locator("[data-alerts-badge]")).to_have_text("1")
    assert AlertEvent.objects.filter(acknowledged=True).count() == 1

    page.get_by_label("State").select_option("resolved")
    page.get_by_role("button", name="Filter").click()
    assert "state=resolved" in page.url and "device=" not in page.url  # empty filters stay out
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Resolved")


def test_a_rule_is_added_refused_when_bad_and_deleted_in_the_rules_panel(signed_in_page: Page, fired):
    page = signed_in_page
    page.goto(f"/devices/{fired.pk}/alerts/")
    expect(page.get_by_role("heading", name="Alert rules · Boiler")).to_be_visible()
    form = page.locator("[data-rule-form]")
    form.get_by_label("Sensor").fill("temperature")
    form.get_by_label("Lower bound").fill("30")
    form.get_by_label("Upper bound").fill("20")
    form.get_by_role("button", name="Add rule").click()
    expect(form.locator('[data-error-for="upper"]')).to_have_text("The upper bound must be above the lower bound.")
    assert AlertRule.objects.count() == 1

    form.get_by_label("Upper bound").fill("40")
    form.get_by_label("alice@example.com").check()
    form.get_by_role("button", name="Add rule").click()
    rule_rows = page.locator("[data-rule-id]")
    expect(rule_rows).to_have_count(2)
    rule = AlertRule.objects.get(sensor="temperature")
    assert (rule.lower, rule.upper, [c.address for c in rule.channels.all()]) == (30, 40, ["alice@example.com"])
    check_both_widths(page, "alert-rules")

    row = page.locator(f'[data-rule-id="{rule.pk}"]')
    row.get_by_label("Enabled").uncheck()
    expect(page.get_by_role("status").filter(has_text="Rule disabled.")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(rule_rows).to_have_count(1)
    assert not AlertRule.objects.filter(pk=rule.pk).exists()
