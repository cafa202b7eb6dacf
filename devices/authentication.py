"""`Authorization: Device <token>` authenticates a device, and nothing else.

Device endpoints list only this class, and user endpoints only JWT and session, so a
device token can never act as a user and a user token can never post as a device.
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from devices.models import Device
from devices.selectors import device_by_token

KEYWORD = b"device"


class DevicePrincipal:
    """What request.user is for a device: authenticated, but never a user."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, device: Device):
        self.device = device
        self.pk = self.id = f"device:{device.pk}"

    def __str__(self) -> str:
        return f"device {self.device.pk}"


def device_from_token(token: str) -> Device:
    device = device_by_token(token=token)
    if device is None:
        raise AuthenticationFailed("Invalid or revoked device token.")
    return device


def token_of_authorization(header: bytes) -> str | None:
    """The token of an `Authorization: Device <token>` header; None for another scheme
    (or none), AuthenticationFailed for a malformed one."""
    parts = header.split()
    if not parts or parts[0].lower() != KEYWORD:
        return None
    if len(parts) != 2:
        raise AuthenticationFailed("Authorization header must be 'Device <token>'.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise AuthenticationFailed("Invalid or revoked device token.") from None


class DeviceTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        token = token_of_authorization(get_authorization_header(request))
        if token is None:
            return None
        device = device_from_token(token)
        return DevicePrincipal(device), device

    def authenticate_header(self, request) -> str:
        return 'Device realm="api"'


class DevicePathTokenAuthentication(BaseAuthentication):
    """The token as the URL's `device_token` (ThingsBoard's device API puts it there),
    so such requests count against their device's rate like any other device's."""

    def authenticate(self, request):
        token = request.parser_context.get("kwargs", {}).get("device_token")
        if token is None:
            return None
        device = device_from_token(token)
        return DevicePrincipal(device), device

    def authenticate_header(self, request) -> str:
        return 'Device realm="api"'


class IsDevice(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Device)
