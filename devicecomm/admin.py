from django.contrib import admin

from devicecomm.models import Attribute, Command


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ["device", "scope", "key", "updated_at"]
    list_filter = ["scope"]
    search_fields = ["key", "device__name"]
    raw_id_fields = ["device"]


@admin.register(Command)
class CommandAdmin(admin.ModelAdmin):
    list_display = ["id", "device", "method", "state", "oneway", "persistent", "created_at", "expires_at"]
    list_filter = ["state", "oneway", "persistent"]
    search_fields = ["method", "device__name"]
    raw_id_fields = ["device"]
