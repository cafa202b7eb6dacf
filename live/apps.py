from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from live import push
        from telemetry import hooks

        # After commit: nothing is ever pushed for a batch that rolled back.
        hooks.on_readings_stored(push.readings_push)
        user_logged_out.connect(_close_live_connections_of_session, dispatch_uid="live_session_end")


def _close_live_connections_of_session(sender, request, user, **kwargs) -> None:
    # Sent before the session is flushed: its key still names the connections.
    from live.push import live_session_end

    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        live_session_end(session_key=session.session_key)
