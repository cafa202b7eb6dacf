from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

from telemetry.models import Reading, Sensor


class EstimatedCountPaginator(Paginator):
    """Counting millions of readings takes seconds; PostgreSQL's planner estimate is
    instant and close enough to number the pages of an unfiltered list."""

    @cached_property
    def count(self) -> int:
        query = self.object_list.query  # type: ignore[attr-defined]
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [Reading._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > 10_000:
                return row[0]
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
