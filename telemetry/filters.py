from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from telemetry.models import Reading


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 turned into UTC before it reaches the database: PostgreSQL refuses the
    offsets past ±15:59 that ISO 8601 and Python allow (e.g. +22:43)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+05:00 lies before year 1 in UTC
            raise ValidationError("This time is out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class ReadingRangeFilter(django_filters.FilterSet):
    """?start=&end= as ISO 8601 (an offset, or UTC when none is given)."""

    start = UtcIsoDateTimeFilter(field_name="ts", lookup_expr="gte")
    end = UtcIsoDateTimeFilter(field_name="ts", lookup_expr="lt")

    class Meta:
        model = Reading
        fields = ["start", "end"]


class ExportFilter(ReadingRangeFilter):
    device = django_filters.NumberFilter(field_name="sensor__device_id", min_value=1)
    sensor = django_filters.CharFilter(field_name="sensor__key", max_length=64)
    # Not a filter: the cells as stored, without the spreadsheet escaping (telemetry/export.py).
    raw = django_filters.ChoiceFilter(choices=[(v, v) for v in ("true", "false", "1", "0")], method="keep_all")

    class Meta(ReadingRangeFilter.Meta):
        fields = ["device", "sensor", "start", "end", "raw"]

    def keep_all(self, queryset, name, value):
        return queryset
