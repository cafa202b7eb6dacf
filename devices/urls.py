from django.urls import path
from rest_framework.routers import SimpleRouter

from devices.views import DeviceQrView, DeviceSelfView, DeviceTokenView, DeviceViewSet

router = SimpleRouter()
router.register("devices", DeviceViewSet, basename="device")

urlpatterns = [
    path("device/", DeviceSelfView.as_view(), name="device-self"),
    *router.urls,
    path("devices/<int:pk>/token/", DeviceTokenView.as_view(), name="device-token"),
    path("devices/<int:pk>/qr.svg", DeviceQrView.as_view(image_format="svg"), name="device-qr-svg"),
    path("devices/<int:pk>/qr.png", DeviceQrView.as_view(image_format="png"), name="device-qr-png"),
]
