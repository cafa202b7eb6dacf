"""Finished commands go after COMMAND_HISTORY_DAYS; open ones and recent ones stay."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from devicecomm import services
from devicecomm.models import Command

pytestmark = pytest.mark.django_db


def test_old_finished_commands_are_pruned(device, settings):
    settings.MQTT_HOST = ""
    old_done, recent_done, old_open = (services.command_create(device=device, method=m) for m in ("a", "b", "c"))
    long_ago = timezone.now() - timedelta(days=100)
    Command.objects.filter(pk=old_done.pk).update(state="succeeded", finished_at=long_ago)
    Command.objects.filter(pk=recent_done.pk).update(state="succeeded", finished_at=timezone.now())
    Command.objects.filter(pk=old_open.pk).update(created_at=long_ago, expires_at=timezone.now() + timedelta(days=1))

    out = StringIO()
    call_command("prune_commands", "--days", "30", stdout=out)

    assert "Deleted 1 " in out.getvalue()
    assert set(Command.objects.values_list("method", flat=True)) == {"b", "c"}


def test_zero_days_keeps_everything_and_negative_is_refused(device):
    out = StringIO()
    call_command("prune_commands", "--days", "0", stdout=out)
    assert "Keeping every command" in out.getvalue()
    with pytest.raises(CommandError, match="--days"):
        call_command("prune_commands", "--days", "-1")
