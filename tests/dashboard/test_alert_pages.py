import pytest

from alerts.services import alert_rule_create, notification_channel_create
from tests.support.alerts import ingest
from tests.support.users import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_client(client, user):
    client.login(username="alice", password=PASSWORD)
    return client


@pytest.fixture
def fired(device, user):
    channel = notification_channel_create(owner=user, kind="email", address="alice@example.com")
    rule = alert_rule_create(device=device, sensor="pressure", lower=1, upper=10, channels=[channel])
    ingest(device, ("pressure", 0, 12.5), ("pressure", 60, 5), ("pressure", 120, 0.5))
    return rule


def test_the_alert_pages_need_a_log_in(client, device):
    for url in ("/alerts/", f"/devices/{device.pk}/alerts/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_the_history_lists_my_alerts_newest_first(browser_client, fired):
    page = browser_client.get("/alerts/").content.decode()
    assert page.index("0.5") < page.index("12.5")
    assert "Boiler" in page and "pressure" in page
    assert page.count("data-ack") == 2  # firing events can be acknowledged; resolved ones need not


def test_the_history_filters_by_state(browser_client, fired):
    page = browser_client.get("/alerts/?state=resolved").content.decode()
    assert page.count('data-alert-id="') == 1


def test_a_bad_filter_is_shown_not_a_crash(browser_client, fired):
    response = browser_client.get("/alerts/?state=burning&start=yesterday")
    assert response.status_code == 400
    assert "state" in response.content.decode()


def test_the_history_is_empty_for_another_user(client, other_user, fired):
    client.login(username="bob", password=PASSWORD)
    page = client.get("/alerts/").content.decode()
    assert 'data-alert-id="' not in page


def test_the_rules_panel_shows_the_devices_rules(browser_client, device, fired):
    page = browser_client.get(f"/devices/{device.pk}/alerts/").content.decode()
    assert f'data-rule-id="{fired.pk}"' in page
    assert "alice@example.com" in page


def test_another_users_rules_panel_is_not_found(client, other_user, device):
    client.login(username="bob", password=PASSWORD)
    assert client.get(f"/devices/{device.pk}/alerts/").status_code == 404


def test_the_nav_badge_counts_unacknowledged_firing_alerts(browser_client, fired):
    from alerts.models import AlertEvent
    from alerts.services import alert_acknowledge

    page = browser_client.get("/").content.decode()
    assert "data-alerts-badge>2</span>" in page  # styled by app.css: no style attribute (CSP)
    for event in AlertEvent.objects.filter(state="firing"):
        alert_acknowledge(event=event)
    page = browser_client.get("/").content.decode()
    assert "data-alerts-badge" in page and " hidden>0</span>" in page
