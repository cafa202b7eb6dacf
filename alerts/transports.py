"""How a notification leaves: one small class per channel kind.

A transport raises TransportError when the message did not get through; `permanent`
says retrying cannot help (an address refused, a webhook answering 4xx), so the
worker stops trying instead of hammering it with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from alerts.models import AlertEvent, Notification, NotificationChannel
from alerts.selectors import alert_event_message
from alerts.webhooks import WebhookRefused, webhook_post

SIGNATURE_HEADER = "X-Iotsite-Signature"


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def bounds_text(event: AlertEvent) -> str:
    if event.kind == "silence":
        return "no data"
    parts = []
    if event.lower is not None:
        parts.append(f"lower {event.lower:g}")
    if event.upper is not None:
        parts.append(f"upper {event.upper:g}")
    return ", ".join(parts)


def event_summary(event: AlertEvent) -> str:
    sensor = event.sensor or "any sensor"
    if event.kind == "silence":
        what = "is quiet (no data)" if event.state == AlertEvent.FIRING else "reports again"
        return f"{event.device.name} / {sensor} {what}"
    value = "?" if event.value is None else f"{event.value:g}"
    return f"{event.device.name} / {sensor} = {value} ({bounds_text(event)})"


class Transport:
    def __init__(self, channel: NotificationChannel):
        self.channel = channel

    def send(self, notification: Notification) -> None:
        raise NotImplementedError


class EmailTransport(Transport):
    def send(self, notification: Notification) -> None:
        event = notification.event
        subject = f"[iotsite] {event.state.upper()}: {event_summary(event)}"
        body = "\n".join(
            [
                f"Alert {event.state} on device {event.device.name}.",
                "",
                f"Device: {event.device.name}",
                f"Sensor: {event.sensor or 'any sensor'}",
                f"Value: {'no data' if event.value is None else f'{event.value:g}'}",
                f"Bounds: {bounds_text(event) or 'none'}",
                f"Time: {event.ts.isoformat()}",
            ]
        )
        connection = get_connection(timeout=settings.ALERTS_SEND_TIMEOUT)
        message = EmailMessage(subject, body, to=[self.channel.address], connection=connection)
        try:
            message.send()
        except Exception as error:  # smtplib, socket and TLS errors alike
            raise TransportError(f"{type(error).__name__}: {error}", permanent=_smtp_refused(error)) from error


def _smtp_refused(error: Exception) -> bool:
    import smtplib

    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600


class WebhookTransport(Transport):
    def send(self, notification: Notification) -> None:
        body = json.dumps(alert_event_message(event=notification.event)).encode()
        signature = hmac.new(self.channel.secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "iotsite-alerts",
            SIGNATURE_HEADER: f"sha256={signature}",
        }
        try:
            response = webhook_post(
                self.channel.url, content=body, headers=headers, timeout=settings.ALERTS_SEND_TIMEOUT
            )
        except WebhookRefused as refused:
            # Checked again at send time: the name may resolve elsewhere than when saved.
            raise TransportError(f"Refused: {refused}", permanent=True) from refused
        except (httpx.HTTPError, OSError, ValueError) as error:
            raise TransportError(f"{type(error).__name__}: {error}") from error
        status = response.status_code
        if 300 <= status < 400:
            # Never followed: the target could be any address. The URL needs fixing.
            location = response.headers.get("Location", "")[:200]
            raise TransportError(f"HTTP {status}: redirect to {location!r} not followed", permanent=True)
        if status >= 400:
            # 4xx: the receiver refuses this message and will again; 408 and 429 are "later".
            permanent = status < 500 and status not in (408, 429)
            raise TransportError(f"HTTP {status}", permanent=permanent)


TRANSPORTS: dict[str, type[Transport]] = {
    NotificationChannel.EMAIL: EmailTransport,
    NotificationChannel.WEBHOOK: WebhookTransport,
}


def transport_for(channel: NotificationChannel) -> Transport:
    return TRANSPORTS[channel.kind](channel)
