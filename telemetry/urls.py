from django.urls import path

from telemetry.views import ExportView, ReadingSeriesView, SensorListView, TelemetryView

urlpatterns = [
    path("telemetry/", TelemetryView.as_view(), name="telemetry"),
    path("devices/<int:pk>/sensors/", SensorListView.as_view(), name="device-sensors"),
    path("devices/<int:pk>/readings/", ReadingSeriesView.as_view(), name="device-readings"),
    path("export.csv", ExportView.as_view(), name="export-csv"),
]
