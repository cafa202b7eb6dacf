from __future__ import annotations

from rest_framework import serializers

from alerts.models import AlertEvent, AlertRule, NotificationChannel
from alerts.webhooks import webhook_url_refusal
from devices.selectors import devices_of_user
from telemetry.payloads import PayloadError, _check_sensor_key


class OwnedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id among the requesting user's own objects; anyone else's reads as missing."""

    default_error_messages = {
        "does_not_exist": "No {kind} with id {pk_value} among yours.",
        "incorrect_type": "Expected an id (a number), got {data_type}.",
    }

    def __init__(self, *, kind: str, owned, **kwargs):
        self.kind, self.owned = kind, owned
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.owned(user=self.context["request"].user)

    def fail(self, key, **kwargs):
        if key == "does_not_exist":
            kwargs["kind"] = self.kind
        super().fail(key, **kwargs)


def _channels_of_user(*, user):
    from alerts.selectors import notification_channels_of_user

    return notification_channels_of_user(user=user)


class AlertRuleSerializer(serializers.ModelSerializer):
    device = OwnedPrimaryKeyField(kind="device", owned=devices_of_user)
    kind = serializers.ChoiceField(choices=AlertRule.KINDS, default=AlertRule.BOUNDS)
    sensor = serializers.CharField(max_length=64, allow_blank=True, required=False, default="", trim_whitespace=False)
    hysteresis = serializers.FloatField(min_value=0, required=False, default=0)
    duration_s = serializers.IntegerField(min_value=0, max_value=365 * 86400, required=False, default=0)
    channels = OwnedPrimaryKeyField(kind="notification channel", owned=_channels_of_user, many=True, required=False)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "device",
            "kind",
            "sensor",
            "lower",
            "upper",
            "hysteresis",
            "duration_s",
            "enabled",
            "channels",
            "state",
            "state_since",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "state", "state_since", "created_at", "updated_at"]

    def validate_sensor(self, value: str) -> str:
        if value == "":
            return value
        try:
            return _check_sensor_key(value, index=None, prefix="")
        except PayloadError as error:
            raise serializers.ValidationError(error.message) from None

    def validate(self, attrs):
        current = {name: getattr(self.instance, name) for name in self.Meta.fields} if self.instance else {}
        merged = {**current, **attrs}
        if self.instance is not None and "device" in attrs and attrs["device"].pk != self.instance.device_id:
            raise serializers.ValidationError({"device": "A rule cannot move to another device; make a new rule."})
        kind, lower, upper = merged.get("kind", AlertRule.BOUNDS), merged.get("lower"), merged.get("upper")
        if kind == AlertRule.SILENCE:
            if lower is not None or upper is not None:
                raise serializers.ValidationError({"lower": "A silence rule has no bounds."})
            if merged.get("duration_s", 0) < 1:
                raise serializers.ValidationError(
                    {"duration_s": "A silence rule needs the quiet time in seconds (at least 1)."}
                )
            return attrs
        if not merged.get("sensor"):
            raise serializers.ValidationError({"sensor": "A bounds rule watches one sensor: give its key."})
        if lower is None and upper is None:
            raise serializers.ValidationError({"lower": "Give a lower bound, an upper bound, or both."})
        if lower is not None and upper is not None:
            if lower >= upper:
                raise serializers.ValidationError({"upper": "The upper bound must be above the lower bound."})
            if 2 * merged.get("hysteresis", 0) >= upper - lower:
                raise serializers.ValidationError(
                    {
                        "hysteresis": "The hysteresis must be less than half the gap between the bounds,"
                        " or the alert never clears."
                    }
                )
        return attrs


class NotificationChannelSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=NotificationChannel.KINDS)
    name = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    address = serializers.EmailField(allow_blank=True, required=False, default="")
    url = serializers.URLField(max_length=2000, allow_blank=True, required=False, default="")
    secret = serializers.CharField(max_length=200, allow_blank=True, required=False, default="", trim_whitespace=False)

    class Meta:
        model = NotificationChannel
        fields = ["id", "kind", "name", "address", "url", "secret", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_url(self, value: str) -> str:
        if value and not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("A webhook URL starts with http:// or https://.")
        refusal = webhook_url_refusal(value) if value else None
        if refusal:
            raise serializers.ValidationError(f"Refused: {refusal}.")
        return value

    def validate(self, attrs):
        if self.instance is not None and "kind" in attrs and attrs["kind"] != self.instance.kind:
            raise serializers.ValidationError({"kind": "A channel keeps its kind; make a new channel."})
        current = (
            {"kind": self.instance.kind, "address": self.instance.address, "url": self.instance.url}
            if self.instance
            else {}
        )
        merged = {**current, **attrs}
        if merged["kind"] == NotificationChannel.EMAIL and not merged.get("address"):
            raise serializers.ValidationError({"address": "An email channel needs an address."})
        if merged["kind"] == NotificationChannel.WEBHOOK and not merged.get("url"):
            raise serializers.ValidationError({"url": "A webhook channel needs a URL."})
        return attrs


class AlertEventSerializer(serializers.ModelSerializer):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = AlertEvent
        fields = [
            "id",
            "rule",
            "device",
            "device_name",
            "sensor",
            "kind",
            "state",
            "value",
            "lower",
            "upper",
            "ts",
            "acknowledged",
            "acknowledged_at",
            "created_at",
        ]
        read_only_fields = fields
