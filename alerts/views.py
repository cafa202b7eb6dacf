from drf_spectacular.utils import extend_schema
from rest_framework import generics, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts import services
from alerts.filters import AlertEventFilter
from alerts.models import AlertEvent, AlertRule, NotificationChannel
from alerts.selectors import (
    alert_event_get_for_user,
    alert_events_of_user,
    alert_rules_of_user,
    alerts_unacknowledged_count,
    notification_channels_of_user,
)
from alerts.serializers import AlertEventSerializer, AlertRuleSerializer, NotificationChannelSerializer


class AlertRuleViewSet(viewsets.ModelViewSet):
    """Alert rules on the user's devices: bounds on one sensor, or silence (no data)."""

    serializer_class = AlertRuleSerializer
    queryset = AlertRule.objects.none()  # the schema's model; get_queryset scopes to the user
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"\d+"
    filterset_fields = ["device"]

    def get_queryset(self):
        return alert_rules_of_user(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.alert_rule_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.alert_rule_update(rule=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.alert_rule_delete(rule=instance)


class NotificationChannelViewSet(viewsets.ModelViewSet):
    """Where alerts go besides the dashboard: email addresses and signed webhooks."""

    serializer_class = NotificationChannelSerializer
    queryset = NotificationChannel.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"\d+"
    filter_backends = []

    def get_queryset(self):
        return notification_channels_of_user(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.notification_channel_create(owner=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.notification_channel_update(
            channel=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.notification_channel_delete(channel=instance)


class AlertEventListView(generics.ListAPIView):
    """Alert history, newest first: each time a rule fired or resolved."""

    serializer_class = AlertEventSerializer
    queryset = AlertEvent.objects.none()
    filterset_class = AlertEventFilter

    def get_queryset(self):
        return alert_events_of_user(user=self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["unacknowledged"] = alerts_unacknowledged_count(user_id=request.user.pk)
        return response


class AlertEventAckView(APIView):
    @extend_schema(request=None, responses=AlertEventSerializer)
    def post(self, request, pk):
        event = services.alert_acknowledge(event=alert_event_get_for_user(user=request.user, event_id=pk))
        return Response(AlertEventSerializer(event).data)
