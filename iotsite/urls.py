from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from iotsite import health
from iotsite.middleware import content_security_policy

# Swagger UI and Redoc set inline styles and run web workers from blob: URLs; their
# scripts still come from this server only (the split view serves Swagger's own).
API_DOCS_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)

handler500 = "iotsite.exceptions.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/", include("devices.urls")),
    # Before telemetry: its catch-all answers the ThingsBoard paths nobody implements.
    path("api/", include("devicecomm.urls")),
    path("api/", include("telemetry.urls")),
    path("api/", include("alerts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        content_security_policy(API_DOCS_POLICY)(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        content_security_policy(API_DOCS_POLICY)(SpectacularRedocView.as_view(url_name="schema")),
        name="api-redoc",
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("protocols.urls")),
    path("", include("dashboard.urls")),
]
