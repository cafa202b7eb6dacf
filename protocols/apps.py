from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    """Ingest in the formats devices already speak (InfluxDB line protocol, ThingSpeak,
    Home Assistant MQTT discovery) and Prometheus metrics; telemetry still owns storage."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "protocols"

    def ready(self) -> None:
        import protocols.schema  # noqa: F401  (registers the protocols' credentials with the schema)
        from protocols import metrics

        metrics.register_hooks()
