from django.urls import path
from rest_framework.routers import SimpleRouter

from alerts.views import AlertEventAckView, AlertEventListView, AlertRuleViewSet, NotificationChannelViewSet

router = SimpleRouter()
router.register("alert-rules", AlertRuleViewSet, basename="alert-rule")
router.register("notification-channels", NotificationChannelViewSet, basename="notification-channel")

urlpatterns = [
    *router.urls,
    path("alerts/", AlertEventListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/ack/", AlertEventAckView.as_view(), name="alert-ack"),
]
