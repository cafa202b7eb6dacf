from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"

    def ready(self) -> None:
        import devices.schema  # noqa: F401  (registers the device token with the schema)
