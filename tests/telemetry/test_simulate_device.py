import pytest
from django.core.management import CommandError, call_command

from telemetry.models import Reading

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_posts_through_the_real_api(live_server, device):
    call_command(
        "simulate_device",
        device=device.pk,
        server=live_server.url,
        interval=0,
        count=3,
        signals="temperature=sine,value",
        backfill_hours=1,
        backfill_step=60,
        wait=5,
    )
    keys = set(Reading.objects.values_list("sensor__key", flat=True))
    assert keys == {"temperature", "value"}
    assert Reading.objects.filter(sensor__key="value").count() == 60 + 3
    device.refresh_from_db()
    assert device.last_seen_at is not None


def test_an_unknown_signal_is_refused(device):
    with pytest.raises(CommandError, match="Unknown signals: wobble"):
        call_command("simulate_device", device=device.pk, signals="x=wobble")


def test_a_revoked_device_cannot_be_simulated(device):
    from devices.services import device_token_revoke

    device_token_revoke(device=device)
    with pytest.raises(CommandError, match="revoked"):
        call_command("simulate_device", device=device.pk)


def test_seed_demo_is_idempotent(django_user_model):
    call_command("seed_demo")
    call_command("seed_demo")
    demo = django_user_model.objects.get(username="demo")
    assert demo.check_password("watch-the-gauges")
    assert demo.devices.count() == 2
    assert Reading.objects.filter(sensor__device__owner=demo).count() > 3 * 24 * 60
