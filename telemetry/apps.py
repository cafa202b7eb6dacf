from django.apps import AppConfig
from django.db.models.signals import post_delete


def _forget_last_image(*, instance, **_signal: object) -> None:
    # Imported here, not in ready(): telemetry.images brings OpenCV, which the MQTT
    # workers and management commands have no use for at start-up.
    from telemetry.images import forget_last_image

    forget_last_image(instance=instance)


class TelemetryConfig(AppConfig):
    name = "telemetry"

    def ready(self) -> None:
        from devices.models import Device

        # A deleted device's kept photo goes with it (devices knows nothing of photos).
        post_delete.connect(_forget_last_image, sender=Device, dispatch_uid="telemetry-forget-last-image")
