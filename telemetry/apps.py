from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "telemetry"

    def ready(self) -> None:
        from telemetry import hooks, live

        # After commit: nothing is ever pushed for a batch that rolled back.
        hooks.on_readings_stored(live.readings_push)
