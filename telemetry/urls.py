from django.urls import path

from telemetry.image_views import TelemetryImageView
from telemetry.thingsboard_views import ThingsBoardTelemetryView, ThingsBoardUnsupportedView
from telemetry.views import ExportView, ReadingSeriesView, SensorListView, TelemetryView

urlpatterns = [
    path("telemetry/", TelemetryView.as_view(), name="telemetry"),
    path("telemetry/image/", TelemetryImageView.as_view(), name="telemetry-image"),
    path("v1/<str:device_token>/telemetry", ThingsBoardTelemetryView.as_view(), name="thingsboard-telemetry"),
    # The rest of ThingsBoard's device API (/attributes, /rpc, ...): answered, never
    # left to the 404 handler, whose log line would hold the token.
    path("v1/<str:device_token>/<path:rest>", ThingsBoardUnsupportedView.as_view(), name="thingsboard-other"),
    path("v1/<str:device_token>/", ThingsBoardUnsupportedView.as_view()),
    path("v1/<str:device_token>", ThingsBoardUnsupportedView.as_view()),
    path("devices/<int:pk>/sensors/", SensorListView.as_view(), name="device-sensors"),
    path("devices/<int:pk>/readings/", ReadingSeriesView.as_view(), name="device-readings"),
    path("export.csv", ExportView.as_view(), name="export-csv"),
]
