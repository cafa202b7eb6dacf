"""Device tokens where the compatible protocols carry their credentials.

InfluxDB 2: `Authorization: Token <token>`. InfluxDB 1.x: that header too, or HTTP basic
auth, or the `u`/`p` query parameters, the token being the password (any user name).
ThingSpeak: `api_key` in the query or body, or the THINGSPEAKAPIKEY header. Each
authenticates a device exactly as `Authorization: Device <token>` does, so the
device's rate limit and revocation hold here too.
"""

from __future__ import annotations

import base64
import binascii

from rest_framework.authentication import BaseAuthentication, get_authorization_header

from devices.authentication import DevicePrincipal, device_from_token


def _authenticated(token: str | None):
    if token is None:
        return None
    device = device_from_token(token)
    return DevicePrincipal(device), device


def _header_token(request, keyword: bytes) -> str | None:
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].lower() != keyword:
        return None
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        return ""  # present but unusable: refused, not ignored


def _basic_password(request) -> str | None:
    encoded = _header_token(request, b"basic")
    if not encoded:
        return encoded
    try:
        _user, _colon, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return password


class InfluxV2TokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return _authenticated(_header_token(request, b"token"))

    def authenticate_header(self, request) -> str:
        return 'Token realm="influxdb"'


class InfluxV1Authentication(BaseAuthentication):
    def authenticate(self, request):
        token = _header_token(request, b"token")
        if token is None:
            token = _basic_password(request)
        if token is None:
            token = request.query_params.get("p")
        return _authenticated(token)

    def authenticate_header(self, request) -> str:
        return 'Basic realm="influxdb"'


class ThingSpeakKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        token = request.headers.get("THINGSPEAKAPIKEY") or request.headers.get("X-THINGSPEAKAPIKEY")
        if token is None:
            token = request.query_params.get("api_key")
        if token is None:
            token = request._thingspeak_form.get("api_key")  # the POST body, parsed by the view first
        if token is not None and not isinstance(token, str):
            token = ""
        return _authenticated(token)
