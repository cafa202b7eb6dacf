import pytest

from alerts.delivery import notifications_deliver_due
from alerts.models import Notification, NotificationAttempt
from alerts.services import alert_rule_create, notification_channel_create
from tests.alerts.servers import smtp_server
from tests.support.alerts import ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    with smtp_server() as (port, inbox):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        settings.DEFAULT_FROM_EMAIL = "alerts@iotsite.test"
        yield inbox


def test_an_alert_email_reaches_a_real_smtp_server_with_what_happened(device, user, smtp):
    channel = notification_channel_create(owner=user, kind="email", address="alice@example.com")
    alert_rule_create(device=device, sensor="pressure", lower=1, upper=10, channels=[channel])
    ingest(device, ("pressure", 0, 12.5))
    assert notifications_deliver_due() == 1
    (message,) = smtp
    assert message["To"] == "alice@example.com"
    assert message["From"] == "alerts@iotsite.test"
    text = message["Subject"] + message.get_payload(decode=True).decode()
    for expected in ("FIRING", "Boiler", "pressure", "12.5", "lower 1", "upper 10"):
        assert expected in text
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("delivered", 1)
    assert notification.delivered_at is not None
    assert NotificationAttempt.objects.get().ok


def test_an_unreachable_mail_server_is_retried_later(device, user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on discard
    channel = notification_channel_create(owner=user, kind="email", address="alice@example.com")
    alert_rule_create(device=device, sensor="pressure", upper=10, channels=[channel])
    ingest(device, ("pressure", 0, 12.5))
    notifications_deliver_due()
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in notification.last_error
    assert not NotificationAttempt.objects.get().ok
