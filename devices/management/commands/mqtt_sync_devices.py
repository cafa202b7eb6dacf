"""Give the MQTT broker every device's current credentials (a fresh or restored broker)."""

from django.core.management.base import BaseCommand, CommandError

from devices import broker
from devices.models import Device
from devices.services import device_token_plain


class Command(BaseCommand):
    help = "Set every device's broker credentials from its token, and remove devices the server no longer has."

    def handle(self, *args, **options):
        if not broker.broker_enabled():
            raise CommandError("MQTT is off: set MQTT_HOST (and MQTT_DYNSEC_ENABLED is not false).")
        credentials = {}
        unreadable = 0
        for device in Device.objects.filter(token_digest__isnull=False).only("id", "token_ciphertext").iterator():
            token = device_token_plain(device=device)
            if token is None:
                unreadable += 1  # encrypted under another SECRET_KEY: rotate it to use it again
                continue
            credentials[device.pk] = token
        try:
            set_count, removed = broker.devices_sync(credentials=credentials)
        except broker.BrokerError as error:
            raise CommandError(f"MQTT broker: {error}") from None
        self.stdout.write(f"Broker credentials set for {set_count} devices; {removed} removed.")
        if unreadable:
            self.stderr.write(f"{unreadable} device tokens could not be decrypted (SECRET_KEY changed); rotate them.")
