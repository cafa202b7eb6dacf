from playwright.sync_api import Page, expect

from tests.support.browsers import check_both_widths, log_in
from tests.support.users import PASSWORD


def test_a_visitor_signs_up_and_lands_on_an_empty_dashboard(page: Page, live_server):
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
    expect(page.get_by_text("at least 8 characters")).to_be_visible()
    check_both_widths(page, "login")

    signup = page.get_by_role("region", name="Create an account")
    signup.get_by_label("Username").fill("carol")
    signup.get_by_label("Password", exact=True).fill("12345678")
    signup.get_by_role("button", name="Create account").click()
    expect(signup.get_by_text("This password is entirely numeric.")).to_be_visible()

    signup = page.get_by_role("region", name="Create an account")
    signup.get_by_label("Password", exact=True).fill(PASSWORD)
    signup.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status").filter(has_text="Welcome, carol")).to_be_visible()
    expect(page.get_by_role("heading", name="No devices yet — add one")).to_be_visible()
    check_both_widths(page, "dashboard-empty")


def test_a_taken_username_is_said_plainly_next_to_the_field(page: Page, user):
    page.goto("/login/")
    signup = page.get_by_role("region", name="Create an account")
    signup.get_by_label("Username").fill("Alice")
    signup.get_by_label("Password", exact=True).fill(PASSWORD)
    signup.get_by_role("button", name="Create account").click()
    expect(page.locator("#signup_username-errors")).to_have_text(
        "The username “Alice” is taken. Choose another, or log in if it is yours."
    )
    expect(page.get_by_role("region", name="Create an account").get_by_label("Username")).to_be_focused()


def test_a_user_logs_in_and_out(page: Page, user):
    page.goto("/login/")
    login = page.get_by_role("region", name="Log in")
    login.get_by_label("Username").fill("alice")
    login.get_by_label("Password").fill("not-the-password")
    login.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")

    log_in(page, username="alice")
    expect(page.get_by_role("heading", name="Your devices")).to_be_visible()
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status").filter(has_text="You are logged out.")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
