from rest_framework import serializers

from protocols.bridge import services
from protocols.models import BridgeBroker


class BridgeBrokerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=100, trim_whitespace=True)
    host = serializers.CharField(max_length=255, trim_whitespace=True)
    port = serializers.IntegerField(min_value=1, max_value=65535, default=1883)
    username = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")
    # Write-only: the API never answers a broker's password, only whether one is set.
    password = serializers.CharField(
        max_length=1024, allow_blank=True, required=False, write_only=True, trim_whitespace=False
    )
    discovery_prefix = serializers.CharField(max_length=100, required=False, default="homeassistant")
    devices = serializers.SerializerMethodField()

    class Meta:
        model = BridgeBroker
        fields = [
            "id",
            "name",
            "host",
            "port",
            "tls",
            "username",
            "password",
            "has_password",
            "discovery_prefix",
            "enabled",
            "status",
            "status_at",
            "devices",
            "created_at",
        ]
        read_only_fields = ["id", "has_password", "status", "status_at", "devices", "created_at"]

    def get_devices(self, broker: BridgeBroker) -> list[int]:
        """Ids of the devices discovered on this broker."""
        return sorted(bridged.device_id for bridged in broker.bridged_devices.all())

    def validate(self, attrs):
        host = attrs.get("host", self.instance.host if self.instance else "")
        port = attrs.get("port", self.instance.port if self.instance else 1883)
        errors = services.broker_host_errors(host, port=port)
        if errors:
            raise serializers.ValidationError({"host": errors})
        if "host" in attrs:
            attrs["host"] = host.strip()
        return attrs

    def validate_discovery_prefix(self, value: str) -> str:
        errors = services.discovery_prefix_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value.strip().strip("/")
