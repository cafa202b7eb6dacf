import django_filters

from alerts.models import AlertEvent
from telemetry.filters import UtcIsoDateTimeFilter


class AlertEventFilter(django_filters.FilterSet):
    """?device=&state=&start=&end=&acknowledged= (times ISO 8601, UTC when no offset)."""

    device = django_filters.NumberFilter(field_name="device_id", min_value=1)
    state = django_filters.ChoiceFilter(choices=AlertEvent.STATES)
    # In UTC before they reach the database: PostgreSQL refuses odd offsets (+22:43).
    start = UtcIsoDateTimeFilter(field_name="ts", lookup_expr="gte")
    end = UtcIsoDateTimeFilter(field_name="ts", lookup_expr="lt")
    # Strict: a plain BooleanFilter reads "maybe" as no filter at all.
    acknowledged = django_filters.TypedChoiceFilter(
        choices=[(text, text) for text in ("true", "false", "1", "0")], coerce=lambda text: text in ("true", "1")
    )

    class Meta:
        model = AlertEvent
        fields = ["device", "state", "start", "end", "acknowledged"]
