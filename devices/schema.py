"""The device token in the OpenAPI schema, so clients and fuzzers know how devices sign in."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "devices.authentication.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Device <token>: the device's token, prefixed with `Device `.",
        }


class DevicePathTokenScheme(OpenApiAuthenticationExtension):
    """The ThingsBoard-compatible path carries the token as a path parameter, which
    OpenAPI security schemes cannot express (an apiKey is a header, query or cookie):
    no scheme, and the parameter says what it is (telemetry/thingsboard_views.py)."""

    target_class = "devices.authentication.DevicePathTokenAuthentication"
    name: list[str] = []

    def get_security_definition(self, auto_schema):
        return []

    def get_security_requirement(self, auto_schema):
        return None
