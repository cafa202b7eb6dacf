"""`/api/bridges/`: an owner's Home Assistant brokers. Thin: serializer, service, answer."""

from rest_framework import viewsets

from protocols.bridge import selectors, services
from protocols.bridge.serializers import BridgeBrokerSerializer
from protocols.models import BridgeBroker


class BridgeBrokerViewSet(viewsets.ModelViewSet):
    serializer_class = BridgeBrokerSerializer
    queryset = BridgeBroker.objects.none()  # the schema's model; requests use get_queryset
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.brokers_of_user(user=self.request.user).prefetch_related("bridged_devices")

    def perform_create(self, serializer):
        serializer.instance = services.broker_create(owner=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        password = fields.pop("password", None)
        serializer.instance = services.broker_update(broker=serializer.instance, password=password, **fields)

    def perform_destroy(self, instance):
        services.broker_delete(broker=instance)
