"""A device whose "no data" alert fires shows as offline on its card, not as stale."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import silence_rules_check
from alerts.services import alert_rule_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def quiet_for(device, minutes: int) -> None:
    device.last_seen_at = timezone.now() - timedelta(minutes=minutes)
    device.save(update_fields=["last_seen_at"])


def status_of(page: str) -> str:
    """The card's status badge: its classes, its dot and its words."""
    start = page.index('class="status ')
    return page[start : page.index("</span>", page.index('class="status-text"', start)) + len("</span>")]


def test_a_silenced_device_is_offline_with_a_dot_and_the_word(signed_in, device):
    quiet_for(device, 11)
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=600)
    silence_rules_check()
    status = status_of(signed_in.get("/").content.decode())
    assert "status-offline" in status
    assert 'class="status-dot"' in status
    assert ">Offline<" in status
    assert "Stale" not in status


def test_a_quiet_device_without_a_firing_rule_is_only_stale(signed_in, device):
    quiet_for(device, 11)
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=3600)
    silence_rules_check()
    status = status_of(signed_in.get("/").content.decode())
    assert "status-stale" in status and ">Stale<" in status


def test_a_device_that_reports_again_is_no_longer_offline(signed_in, device):
    quiet_for(device, 11)
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=600)
    silence_rules_check()
    quiet_for(device, 0)
    silence_rules_check()
    status = status_of(signed_in.get("/").content.decode())
    assert "status-online" in status


def test_a_disabled_silence_rule_leaves_the_device_as_it_is(signed_in, device):
    quiet_for(device, 11)
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=600, enabled=False)
    silence_rules_check()
    assert "status-stale" in status_of(signed_in.get("/").content.decode())


def test_the_card_refresh_says_which_devices_are_offline(signed_in, device, user):
    from devices.services import device_create

    other, _token = device_create(owner=user, name="Pump", type="generic")
    quiet_for(device, 11)
    alert_rule_create(device=device, sensor="", kind="silence", duration_s=600)
    silence_rules_check()
    cards = {card["id"]: card["offline"] for card in signed_in.get("/cards.json").json()["cards"]}
    assert cards == {device.pk: True, other.pk: False}


def test_another_users_silenced_device_does_not_mark_mine(signed_in, device, other_user):
    from devices.services import device_create

    theirs, _token = device_create(owner=other_user, name="Bobs pump", type="generic")
    alert_rule_create(device=theirs, sensor="", kind="silence", duration_s=1)
    silence_rules_check(now=timezone.now() + timedelta(seconds=5))
    [card] = signed_in.get("/cards.json").json()["cards"]
    assert card["offline"] is False
