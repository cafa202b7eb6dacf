"""The compatible protocols' credentials in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class InfluxV2TokenScheme(OpenApiAuthenticationExtension):
    target_class = "protocols.authentication.InfluxV2TokenAuthentication"
    name = "influxToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token <device token>, as InfluxDB 2 clients send it.",
        }


class InfluxV1Scheme(OpenApiAuthenticationExtension):
    target_class = "protocols.authentication.InfluxV1Authentication"
    name = "influxV1Password"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "Any user name; the device token as password."}


class ThingSpeakKeyScheme(OpenApiAuthenticationExtension):
    target_class = "protocols.authentication.ThingSpeakKeyAuthentication"
    name = "thingSpeakApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "query", "name": "api_key", "description": "The device token."}
