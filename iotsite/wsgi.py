import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iotsite.settings")
django_wsgi_app = get_wsgi_application()

from django.conf import settings  # noqa: E402

from telemetry.device_route import WsgiDeviceRoute  # noqa: E402

# Device ingest POSTs skip Django's middleware (telemetry/device_route.py).
application = WsgiDeviceRoute(django_wsgi_app) if settings.DEVICE_ROUTE else django_wsgi_app
