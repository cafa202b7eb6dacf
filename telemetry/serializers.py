from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rest_framework import serializers

from telemetry.models import Sensor


class SensorSerializer(serializers.ModelSerializer):
    count = serializers.IntegerField(source="reading_count")

    class Meta:
        model = Sensor
        fields = ["key", "unit", "count", "last_value", "last_ts", "created_at"]
        read_only_fields = fields


class SeriesParamsSerializer(serializers.Serializer):
    sensor = serializers.CharField(required=False, max_length=64)
    points = serializers.IntegerField(required=False, default=1000, min_value=1, max_value=10_000)
    tz = serializers.CharField(required=False, max_length=64)

    def validate_tz(self, value: str) -> ZoneInfo:
        if value not in available_timezones():
            raise serializers.ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris).")
        try:
            return ZoneInfo(value)
        except ZoneInfoNotFoundError:  # listed but not loadable
            raise serializers.ValidationError(f"{value!r} is not an IANA time zone.") from None


class TelemetryAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()


class SeriesSerializer(serializers.Serializer):
    sensor = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    kind = serializers.ChoiceField(["raw", "buckets"])
    source = serializers.ChoiceField(["raw", "minute", "hour"])  # type: ignore[assignment]
    bucket_seconds = serializers.IntegerField(allow_null=True)
    tz = serializers.CharField(allow_null=True)
    points = serializers.ListField(child=serializers.DictField())
