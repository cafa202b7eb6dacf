from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"

    def ready(self) -> None:
        from live import push
        from telemetry import hooks

        # After commit: nothing is ever pushed for a batch that rolled back.
        hooks.on_readings_stored(push.readings_push)
