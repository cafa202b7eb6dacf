from datetime import UTC, datetime

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


# A series is computed from its times (aligned to buckets, to local midnights), and at
# the ends of Python's calendar (years 1 and 9999) that arithmetic overflows.
EARLIEST_SERIES_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_SERIES_TIME = datetime(3000, 1, 1, tzinfo=UTC)


class SeriesTimeField(UtcIsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is not None and not EARLIEST_SERIES_TIME <= parsed <= LATEST_SERIES_TIME:
            raise ValidationError(
                f"Must lie from {EARLIEST_SERIES_TIME:%Y-%m-%d} to {LATEST_SERIES_TIME:%Y-%m-%d}.", code="invalid"
            )
        return parsed


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class SeriesTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = SeriesTimeField


class ReadingRangeFilter(django_filters.FilterSet):
    """?start=&end= of a series, as ISO 8601 (an offset, or UTC when none is given)."""

    start = SeriesTimeFilter(field_name="ts", lookup_expr="gte")
    end = SeriesTimeFilter(field_name="ts", lookup_expr="lt")

    class Meta:
        model = Reading
        fields = ["start", "end"]


class ExportFilter(django_filters.FilterSet):
    # Any time Python can hold: the export only compares readings' times with them.
    start = UtcIsoDateTimeFilter(field_name="ts", lookup_expr="gte")
    end = UtcIsoDateTimeFilter(field_name="ts", lookup_expr="lt")
    device = django_filters.NumberFilter(field_name="sensor__device_id", min_value=1)
    sensor = django_filters.CharFilter(field_name="sensor__key", max_length=64)
    # Not a filter: the cells as stored, without the spreadsheet escaping (telemetry/export.py).
    raw = django_filters.ChoiceFilter(choices=[(v, v) for v in ("true", "false", "1", "0")], method="keep_all")

    class Meta:
        model = Reading
        fields = ["device", "sensor", "start", "end", "raw"]

    def keep_all(self, queryset, name, value):
        return queryset
