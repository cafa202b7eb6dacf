"""`manage.py mqtt_ingest` refuses to start, with a clear message, when it cannot work."""

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_it_needs_a_broker_address(settings):
    settings.MQTT_HOST = ""
    with pytest.raises(CommandError, match="Set MQTT_HOST"):
        call_command("mqtt_ingest")


def test_a_batch_must_hold_a_message(mqtt_settings):
    with pytest.raises(CommandError, match="--batch"):
        call_command("mqtt_ingest", "--batch", "0")


def test_a_wrong_server_password_is_refused_by_the_broker(mqtt_settings):
    mqtt_settings.MQTT_PASSWORD = "not-the-password"
    with pytest.raises(CommandError, match="refused the connection"):
        call_command("mqtt_ingest", "--client-id", "iotsite-ingest-refused")


def test_an_unreachable_broker_is_named(mqtt_settings, broker):
    broker.stop()
    with pytest.raises(CommandError, match=f"cannot reach 127.0.0.1:{broker.port}"):
        call_command("mqtt_ingest")
