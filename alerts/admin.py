from django.contrib import admin

from alerts.models import AlertEvent, AlertRule, Notification, NotificationAttempt, NotificationChannel


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["id", "device", "kind", "sensor", "lower", "upper", "duration_s", "enabled", "state"]
    list_filter = ["kind", "enabled", "state"]
    raw_id_fields = ["device"]


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "kind", "name", "address", "url"]
    exclude = ["secret"]


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    list_display = ["id", "device", "sensor", "kind", "state", "value", "ts", "acknowledged"]
    list_filter = ["state", "kind", "acknowledged"]
    raw_id_fields = ["rule", "device"]
    show_full_result_count = False


class NotificationAttemptInline(admin.TabularInline):
    model = NotificationAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["started_at", "finished_at", "ok", "error"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "channel", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["status"]
    raw_id_fields = ["event", "channel"]
    inlines = [NotificationAttemptInline]
    show_full_result_count = False
