from rest_framework import serializers

from devicecomm.models import Command


class AttributesSetSerializer(serializers.Serializer):
    scope = serializers.CharField(help_text="shared or server (client attributes come from the device)")
    attributes = serializers.JSONField(help_text="key → any JSON value")


class AttributesSerializer(serializers.Serializer):
    client = serializers.DictField(child=serializers.JSONField(), required=False)
    shared = serializers.DictField(child=serializers.JSONField(), required=False)
    server = serializers.DictField(child=serializers.JSONField(), required=False)


class CommandCreateSerializer(serializers.Serializer):
    method = serializers.CharField(max_length=255, trim_whitespace=True)
    params = serializers.JSONField(required=False, default=dict)
    timeout_s = serializers.IntegerField(required=False, allow_null=True, default=None)
    persistent = serializers.BooleanField(required=False, default=False)
    oneway = serializers.BooleanField(required=False, default=False)


class CommandSerializer(serializers.ModelSerializer):
    device = serializers.IntegerField(source="device_id", read_only=True)

    class Meta:
        model = Command
        fields = [
            "id",
            "device",
            "method",
            "params",
            "oneway",
            "persistent",
            "state",
            "response",
            "attempts",
            "created_at",
            "expires_at",
            "sent_at",
            "delivered_at",
            "finished_at",
        ]
        read_only_fields = fields
