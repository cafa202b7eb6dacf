from django.contrib import admin

from devices.models import Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    # The token fields are deliberately absent: not even staff see a device token.
    list_display = ["name", "owner", "type", "created_at", "last_seen_at", "token_hint"]
    list_filter = ["type"]
    search_fields = ["name", "owner__username"]
    fields = ["owner", "name", "type", "description", "config", "created_at", "last_seen_at", "token_hint"]
    readonly_fields = ["created_at", "last_seen_at", "token_hint"]
    raw_id_fields = ["owner"]
