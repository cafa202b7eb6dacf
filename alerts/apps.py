from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        from alerts.evaluation import readings_evaluate
        from telemetry.hooks import on_readings_stored

        # Inside the ingest transaction: events and their outbox rows commit with the readings.
        on_readings_stored(readings_evaluate, in_transaction=True)
