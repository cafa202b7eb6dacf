"""Create the demo user and a demo device, once; safe to run on every start."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from devices.models import Device
from devices.services import device_create

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "watch-the-gauges"
DEMO_DEVICE_NAME = "Boiler pressure"


class Command(BaseCommand):
    help = "Create the demo user (demo / watch-the-gauges) with a simulated device."

    def handle(self, *args, **options):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=DEMO_USERNAME)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        device = Device.objects.filter(owner=user, name=DEMO_DEVICE_NAME).first()
        if device is None:
            device, _ = device_create(
                owner=user,
                name=DEMO_DEVICE_NAME,
                type="analog_gauge",
                description="A simulated boiler pressure gauge.",
                config={"unit": "bar", "min": 0, "max": 10},
            )
        self.stdout.write(f"Demo user: {DEMO_USERNAME} / {DEMO_PASSWORD} (device {device.pk}: {device.name})")
