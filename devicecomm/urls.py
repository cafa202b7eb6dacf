from django.urls import path

from devicecomm import longpoll, views

urlpatterns = [
    # The owner
    path("devices/<int:pk>/attributes/", views.DeviceAttributesView.as_view(), name="device-attributes"),
    path("devices/<int:pk>/commands/", views.DeviceCommandsView.as_view(), name="device-commands"),
    path("devices/<int:pk>/commands/<int:command_id>/", views.DeviceCommandView.as_view(), name="device-command"),
    # The device: Authorization: Device <token>
    path("device/attributes/", views.DeviceSelfAttributesView.as_view(), name="device-self-attributes"),
    path("device/attributes/updates/", longpoll.device_attribute_updates_poll, name="device-self-attribute-updates"),
    path("device/commands/", longpoll.device_commands_poll, name="device-self-commands"),
    path("device/commands/<str:command_id>/", views.DeviceSelfCommandReplyView.as_view(), name="device-self-command"),
    path("device/rpc/", views.DeviceSelfRpcView.as_view(), name="device-self-rpc"),
    # ThingsBoard's device API: the token in the path
    path("v1/<str:device_token>/attributes", views.ThingsBoardAttributesView.as_view(), name="thingsboard-attributes"),
    path(
        "v1/<str:device_token>/attributes/updates",
        longpoll.thingsboard_attribute_updates,
        name="thingsboard-attribute-updates",
    ),
    path("v1/<str:device_token>/rpc", longpoll.thingsboard_rpc, name="thingsboard-rpc"),
    path(
        "v1/<str:device_token>/rpc/<str:command_id>",
        views.ThingsBoardRpcReplyView.as_view(),
        name="thingsboard-rpc-reply",
    ),
]
