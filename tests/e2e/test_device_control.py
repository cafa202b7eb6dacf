"""A device's page at phone width: the owner edits shared and server attributes, sends a
command, and sees its state change live as the device (plain HTTP here) takes and
answers it, and the device's own report arrive. Served by uvicorn, so the live stream
is the real /ws/live/ socket."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.live.conftest import server_database, uvicorn_server_url  # noqa: F401 (fixtures)
from tests.support.browsers import PHONE, check_both_widths, in_browser, log_in
from tests.support.live import in_own_thread
from tests.support.users import PASSWORD

pytestmark = pytest.mark.browser


def account_with_a_device(base_url: str) -> tuple[str, int, str]:
    """(username, device id, device token) of a new account with one device."""
    username = f"owner{uuid.uuid4().hex[:8]}"
    registered = httpx.post(f"{base_url}/api/auth/register/", json={"username": username, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {registered.json()['tokens']['access']}"}
    created = httpx.post(f"{base_url}/api/devices/", json={"name": "Relay box"}, headers=headers)
    assert created.status_code == 201, created.text
    return username, created.json()["id"], created.json()["token"]


def test_attributes_and_commands_on_the_device_page_at_375px(uvicorn_server_url):  # noqa: F811
    base_url = uvicorn_server_url
    username, device_id, token = account_with_a_device(base_url)
    device = httpx.Client(base_url=base_url, headers={"Authorization": f"Device {token}"}, timeout=10)

    def scenario(page: Page) -> None:
        page.set_viewport_size(PHONE)
        log_in(page, username=username)
        page.goto(f"/devices/{device_id}/plots/")
        attributes = page.get_by_role("region", name="Attributes")
        commands = page.get_by_role("region", name="Commands")
        expect(attributes.get_by_text("No attributes yet.")).to_be_visible()

        # A shared attribute, as JSON, and a server note as plain text.
        attributes.get_by_label("Key").fill("interval")
        attributes.get_by_label("Value").fill("10")
        attributes.get_by_role("button", name="Save attribute").click()
        expect(attributes.locator("tr[data-scope=shared][data-key=interval]")).to_contain_text("10")
        attributes.get_by_label("Scope").select_option("server")
        attributes.get_by_label("Key").fill("location")
        attributes.get_by_label("Value").fill("north wall")
        attributes.get_by_role("button", name="Save attribute").click()
        expect(attributes.locator("tr[data-scope=server][data-key=location]")).to_contain_text('"north wall"')
        assert device.get("/api/device/attributes/").json() == {"client": {}, "shared": {"interval": 10}}

        # An oversized or missing value is refused in place.
        attributes.get_by_label("Key").fill("")
        attributes.get_by_role("button", name="Save attribute").click()
        expect(attributes.get_by_role("alert")).to_have_text("Give the attribute a key and a value.")

        # The device's report arrives live.
        assert device.post("/api/device/attributes/", json={"fw": "1.4.2"}).status_code == 200
        expect(attributes.locator("tr[data-scope=client][data-key=fw]")).to_contain_text('"1.4.2"')
        expect(attributes.get_by_role("button", name="Delete client attribute fw")).to_have_count(0)

        attributes.get_by_role("button", name="Delete shared attribute interval").click()
        expect(attributes.locator("tr[data-scope=shared]")).to_have_count(0)

        # A command: queued, then delivered and succeeded as the device takes and answers it.
        commands.get_by_label("Method").fill("setRelay")
        commands.get_by_label("Params").fill('{"on": true}')
        commands.get_by_role("button", name="Send command").click()
        item = commands.locator(".command-item").first
        expect(item.locator("[data-command-state]")).to_have_text("queued")
        taken = device.get("/api/device/commands/", params={"timeout": 5})
        assert taken.status_code == 200 and taken.json()["method"] == "setRelay"
        # Pushed live; fetched again within seconds should a push be lost on a busy machine.
        expect(item.locator("[data-command-state]")).to_have_text("delivered", timeout=15_000)
        assert device.post(f"/api/device/commands/{taken.json()['id']}/", json={"relay": "on"}).status_code == 200
        expect(item.locator("[data-command-state]")).to_have_text("succeeded", timeout=15_000)
        expect(item.locator("[data-command-response]")).to_have_text('Response: {"relay":"on"}')

        commands.get_by_label("Params").fill("{not json")
        commands.get_by_label("Method").fill("x")
        commands.get_by_role("button", name="Send command").click()
        expect(commands.get_by_role("alert")).to_contain_text("Params must be JSON")

        # Nothing scrolls sideways or is too small to touch at phone width.
        check_both_widths(page, "device-control")

    in_own_thread(in_browser, base_url, scenario, path="/login/")
