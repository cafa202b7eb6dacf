from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from telemetry import storage
from telemetry.models import Reading, Sensor


class EstimatedCountPaginator(Paginator):
    """Counting millions of readings takes seconds; PostgreSQL's planner estimate is
    instant and close enough to number the pages of an unfiltered list."""

    @cached_property
    def count(self) -> int:
        query = self.object_list.query  # type: ignore[attr-defined]
        if not query.where:
            estimate = storage.readings_estimated_count()
            if estimate is not None and estimate > 10_000:
                return estimate
        return super().count


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Sensor)
class SensorAdmin(ReadOnlyAdmin):
    list_display = ["key", "device", "unit", "reading_count", "last_value", "last_ts"]
    search_fields = ["key", "device__name"]
    list_select_related = ["device"]
    raw_id_fields = ["device"]


@admin.register(Reading)
class ReadingAdmin(ReadOnlyAdmin):
    list_display = ["ts", "sensor", "value"]
    list_select_related = ["sensor", "sensor__device"]
    raw_id_fields = ["sensor"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # Ordering by id walks the primary key backwards: no sort over millions of rows.
    ordering = ["-id"]
