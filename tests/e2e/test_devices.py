import re

from playwright.sync_api import Page, expect

from devices.services import device_create
from tests.support.browsers import check_both_widths


def send_reading(page: Page, token: str, body) -> int:
    response = page.request.post("/api/telemetry/", data=body, headers={"Authorization": f"Device {token}"})
    return response.status


def test_a_user_adds_a_gauge_and_its_token_works(signed_in_page: Page):
    page = signed_in_page
    page.get_by_role("link", name="+ Add a device").click()
    page.get_by_label("Name").fill("Boiler pressure")
    page.get_by_label("Type").select_option(label="Analog gauge")
    page.get_by_label("Unit").fill("bar")
    page.get_by_label("Scale minimum").fill("0")
    page.get_by_label("Scale maximum").fill("10")
    check_both_widths(page, "device-new")
    page.get_by_role("button", name="Create device").click()

    expect(page.get_by_role("heading", name="Connect “Boiler pressure”")).to_be_visible()
    expect(page.get_by_text("Keep this secret.")).to_be_visible()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    token = page.locator("[data-token]").inner_text().strip()
    assert token.startswith("iotd_")
    check_both_widths(page, "device-connect")

    assert send_reading(page, token, {"value": 6.5}) == 201
    page.get_by_role("link", name="Dashboard").first.click()
    card = page.locator(".device-card")
    expect(card.locator(".reading-value")).to_have_text("6.5bar")
    expect(card.locator(".status")).to_have_text("Online")
    expect(card.locator(".reading-time")).to_contain_text("just now")
    needle = card.locator(".gauge-needle")
    expect(needle).to_have_count(1)
    # 6.5 of 0..10 on a 270° dial starting at 225°: 225 + 0.65 * 270
    assert float(needle.get_attribute("data-angle")) == 400.5
    check_both_widths(page, "dashboard")


def test_a_device_name_clash_is_refused_on_the_create_page(signed_in_page: Page, device):
    page = signed_in_page
    page.goto("/devices/new/")
    page.get_by_label("Name").fill("boiler")
    page.get_by_label("Type").select_option(label="Generic sensor")
    page.get_by_role("button", name="Create device").click()
    expect(page.locator("#id_name-errors")).to_have_text("You already have a device with this name.")
    expect(page.get_by_label("Name")).to_be_focused()


def test_rename_in_place_has_three_outcomes(signed_in_page: Page, user, device):
    device_create(owner=user, name="Heat pump", type="generic")
    page = signed_in_page
    page.reload()
    name = page.get_by_role("textbox", name="Device name").first
    expect(name).to_have_value("Boiler")

    name.fill("Boiler room")
    name.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Renamed to “Boiler room”.")).to_be_visible()
    expect(name).to_be_focused()
    device.refresh_from_db()
    assert device.name == "Boiler room"

    name.fill(" Boiler room ")
    page.locator(".device-card").first.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status").filter(has_text="The name is unchanged")).to_be_visible()
    expect(name).to_have_class(re.compile("is-unchanged"))
    expect(name).to_be_focused()
    assert name.evaluate("input => getComputedStyle(input).borderColor") == "rgb(179, 89, 0)"

    name.fill("heat PUMP")
    name.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="You already have a device with this name.")).to_be_visible()
    expect(name).to_be_focused()
    expect(name).to_have_value("heat PUMP")
    expect(name).to_have_attribute("aria-invalid", "true")
    device.refresh_from_db()
    assert device.name == "Boiler room"
    check_both_widths(page, "dashboard-rename")


def test_the_config_panel_slides_down_with_the_device_details(signed_in_page: Page, device):
    page = signed_in_page
    page.reload()
    card = page.locator(".device-card")
    panel = card.locator("[data-config-panel]")
    expect(panel.get_by_text("generic")).not_to_be_visible()
    card.get_by_role("button", name="Details").click()
    expect(card.get_by_role("button", name="Hide details")).to_have_attribute("aria-expanded", "true")
    expect(panel.locator("dd").nth(1)).to_have_text(str(device.pk))
    expect(panel.get_by_text("generic")).to_be_visible()
    expect(panel.get_by_text("never")).to_be_visible()
    check_both_widths(page, "dashboard-details")


def test_the_qr_dialog_hides_the_token_until_asked_and_rotates_and_revokes(signed_in_page: Page, device, device_token):
    page = signed_in_page
    page.reload()
    page.get_by_role("button", name="QR & token").click()
    dialog = page.get_by_role("dialog", name="Connect “Boiler”")
    expect(dialog).to_be_visible()
    qr = dialog.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    # Polled from here: wait_for_function evaluates a string, which the CSP refuses.
    for _ in range(100):
        if page.eval_on_selector("[data-qr-image]", "image => image.naturalWidth") > 0:
            break
        page.wait_for_timeout(100)
    assert page.eval_on_selector("[data-qr-image]", "image => image.naturalWidth") > 0
    token_value = dialog.locator("[data-token-value]")
    expect(token_value).not_to_contain_text("iotd_")
    expect(dialog.get_by_role("link", name="How to connect this device")).to_have_attribute(
        "href", f"/devices/{device.pk}/connect/"
    )
    check_both_widths(page, "dashboard-qr")

    dialog.get_by_role("button", name="Show token").click()
    expect(token_value).to_have_text(device_token)
    assert send_reading(page, device_token, {"value": 1}) == 201

    dialog.get_by_role("button", name="Rotate token").click()
    dialog.get_by_role("button", name="Yes, rotate").click()
    expect(page.get_by_role("status").filter(has_text="New token issued")).to_be_visible()
    new_token = token_value.inner_text()
    assert new_token.startswith("iotd_") and new_token != device_token
    assert send_reading(page, device_token, {"value": 2}) == 401
    assert send_reading(page, new_token, {"value": 3}) == 201

    dialog.get_by_role("button", name="Revoke token").click()
    expect(dialog.get_by_text("Revoke the token?")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").last.click()
    assert send_reading(page, new_token, {"value": 4}) == 201
    dialog.get_by_role("button", name="Revoke token").click()
    dialog.get_by_role("button", name="Yes, revoke").click()
    expect(dialog.get_by_text("This device has no token")).to_be_visible()
    expect(qr).to_be_hidden()
    assert send_reading(page, new_token, {"value": 5}) == 401
    expect(dialog.get_by_role("button", name="Issue a new token")).to_be_visible()

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="QR & token")).to_be_focused()


def test_a_card_keeps_up_with_new_readings_without_a_reload(signed_in_page: Page, device, device_token):
    page = signed_in_page
    page.clock.install()
    page.reload()
    card = page.locator(".device-card")
    expect(card.get_by_text("No readings yet.")).to_be_visible()
    assert send_reading(page, device_token, {"value": 42.125}) == 201
    page.clock.fast_forward(16_000)
    expect(card.locator(".reading-value")).to_have_text("42.125")
    expect(card.locator(".status")).to_have_text("Online")


def test_a_device_is_deleted_after_a_confirmation(signed_in_page: Page, user, device):
    device_create(owner=user, name="Heat pump", type="generic")
    page = signed_in_page
    page.reload()
    card = page.locator(".device-card").first
    card.get_by_role("button", name="Details").click()
    card.get_by_role("button", name="Delete device").click()
    expect(card.get_by_text("Delete “Boiler” and all its readings?")).to_be_visible()
    card.get_by_role("button", name="Cancel").click()
    expect(page.locator(".device-card")).to_have_count(2)

    card.get_by_role("button", name="Delete device").click()
    card.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_role("status").filter(has_text="“Boiler” is deleted.")).to_be_visible()
    expect(page.locator(".device-card")).to_have_count(1)
    assert not type(device).objects.filter(pk=device.pk).exists()


def test_the_dashboard_works_from_the_keyboard(signed_in_page: Page, device):
    page = signed_in_page
    page.reload()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="+ Add device")).to_be_focused()
    page.keyboard.press("Tab")
    name = page.get_by_role("textbox", name="Device name")
    expect(name).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("End")
    page.keyboard.type(" room")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Renamed to “Boiler room”.")).to_be_visible()
    page.keyboard.press("Tab")  # the Rename button
    page.keyboard.press("Tab")  # "Connect the device"
    page.keyboard.press("Tab")
    details = page.get_by_role("button", name="Details")
    expect(details).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Hide details")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name="QR & token")).to_be_focused()
