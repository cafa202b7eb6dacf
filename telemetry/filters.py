import django_filters

from telemetry.models import Reading


class ReadingRangeFilter(django_filters.FilterSet):
    """?start=&end= as ISO 8601 (an offset, or UTC when none is given)."""

    start = django_filters.IsoDateTimeFilter(field_name="ts", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="ts", lookup_expr="lt")

    class Meta:
        model = Reading
        fields = ["start", "end"]


class ExportFilter(ReadingRangeFilter):
    device = django_filters.NumberFilter(field_name="sensor__device_id", min_value=1)
    sensor = django_filters.CharFilter(field_name="sensor__key", max_length=64)

    class Meta(ReadingRangeFilter.Meta):
        fields = ["device", "sensor", "start", "end"]
