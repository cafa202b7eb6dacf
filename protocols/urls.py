from django.urls import path
from rest_framework.routers import SimpleRouter

from protocols import metrics, views
from protocols.bridge import pages
from protocols.bridge.views import BridgeBrokerViewSet

router = SimpleRouter()
router.register("api/bridges", BridgeBrokerViewSet, basename="bridge-broker")

urlpatterns = [
    path("api/v2/write", views.InfluxWriteView.as_view(), name="influxdb-v2-write"),
    path("write", views.InfluxV1WriteView.as_view(), name="influxdb-v1-write"),
    path("ping", views.InfluxPingView.as_view(), name="influxdb-ping"),
    path("update", views.ThingSpeakUpdateView.as_view(), name="thingspeak-update"),
    path("update.json", views.ThingSpeakUpdateJsonView.as_view(), name="thingspeak-update-json"),
    path("metrics", metrics.metrics_view, name="metrics"),
    *router.urls,
    path("bridges/", pages.bridges, name="bridges"),
    path("bridges/<int:pk>/delete/", pages.bridge_delete, name="bridge-delete"),
]
