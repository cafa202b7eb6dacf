from django.apps import AppConfig
from django.db.models.signals import post_delete


class TelemetryConfig(AppConfig):
    name = "telemetry"

    def ready(self) -> None:
        from devices.models import Device
        from telemetry.images import forget_last_image

        # A deleted device's kept photo goes with it (devices knows nothing of photos).
        post_delete.connect(forget_last_image, sender=Device, dispatch_uid="telemetry-forget-last-image")
