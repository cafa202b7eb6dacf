from django.apps import AppConfig


class DevicecommConfig(AppConfig):
    """Talking back to devices: attributes (client, shared, server) and commands (RPC)."""

    name = "devicecomm"

    def ready(self) -> None:
        from devicecomm import services
        from devices import signals

        # A revoked token ends the device's open commands (devices knows nothing of them).
        signals.device_token_revoked.connect(services.commands_stop_on_revoke, dispatch_uid="devicecomm-revoke")
