from rest_framework import serializers

from devices.device_types import GENERIC, config_errors
from devices.models import Device
from devices.selectors import device_name_taken
from devices.services import NAME_TAKEN


class DeviceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=100, trim_whitespace=True)
    type = serializers.SlugField(max_length=50, default=GENERIC)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    config = serializers.JSONField(required=False, default=dict)
    retention_days = serializers.IntegerField(min_value=1, max_value=36_500, allow_null=True, required=False)
    sensors = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = [
            "id",
            "name",
            "type",
            "description",
            "config",
            "retention_days",
            "sensors",
            "created_at",
            "last_seen_at",
            "has_token",
            "token_hint",
            "token_issued_at",
        ]
        read_only_fields = ["id", "created_at", "last_seen_at", "has_token", "token_hint", "token_issued_at"]

    def get_sensors(self, device: Device) -> list[str]:
        # Sensor keys, from the prefetch that devices_of_user sets up.
        return sorted(sensor.key for sensor in device.sensors.all())

    def validate_name(self, value: str) -> str:
        owner = self.context["request"].user
        exclude_id = self.instance.pk if self.instance else None
        if device_name_taken(owner=owner, name=value, exclude_id=exclude_id):
            raise serializers.ValidationError(NAME_TAKEN)
        return value

    def validate_config(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value

    def validate(self, attrs):
        device_type = attrs.get("type", self.instance.type if self.instance else GENERIC)
        config = attrs.get("config", self.instance.config if self.instance else {})
        errors = config_errors(device_type, config)
        if errors:
            raise serializers.ValidationError({"config": errors})
        return attrs


class DeviceCreatedSerializer(DeviceSerializer):
    """The answer to a create: the device and, this once in the body, its token."""

    token = serializers.CharField(read_only=True)

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "token"]


class DeviceTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    token_hint = serializers.CharField()
    token_issued_at = serializers.DateTimeField()


class DeviceSelfSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ["id", "name", "type", "config"]
        read_only_fields = fields
