from django.urls import path

from protocols import views

urlpatterns = [
    path("api/v2/write", views.InfluxWriteView.as_view(), name="influxdb-v2-write"),
    path("write", views.InfluxV1WriteView.as_view(), name="influxdb-v1-write"),
    path("ping", views.InfluxPingView.as_view(), name="influxdb-ping"),
    path("update", views.ThingSpeakUpdateView.as_view(), name="thingspeak-update"),
    path("update.json", views.ThingSpeakUpdateJsonView.as_view(), name="thingspeak-update-json"),
]
