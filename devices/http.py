"""What device pages and API views share about the request they answer."""

from django.conf import settings


def server_base_url(request) -> str:
    """The address devices reach this server at: PUBLIC_BASE_URL, else the request's host."""
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")
