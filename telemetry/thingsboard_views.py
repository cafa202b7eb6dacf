"""ThingsBoard's device HTTP API, so that firmware written for it works by changing the host.

`POST /api/v1/{device_token}/telemetry` takes ThingsBoard's payloads (a flat object,
`{"ts": <ms>, "values": {...}}`, or an array of either; all are forms our telemetry
parser knows) and answers as ThingsBoard does: 200 with an empty body once stored, 401
for an unknown or revoked token, 400 for a bad body (with our JSON error naming the
field). The token rides in the path: docs/api.md, "ThingsBoard-compatible HTTP".

Attributes and RPC (`/attributes`, `/attributes/updates`, `/rpc`) are the devicecomm
app's (docs/device-communication.md). Every other path under `/api/v1/{device_token}/`
(claiming, firmware, ...) is answered here, as ThingsBoard answers a device: 401 for
an unknown token, and otherwise 404 with what is implemented. None of these answers is
logged with its path, which holds the token.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import DevicePathTokenAuthentication, IsDevice
from telemetry.http import ingest_body

EMPTY_PROBE_MAX_BYTES = 16


class ThingsBoardTelemetryView(APIView):
    authentication_classes = [DevicePathTokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes: list = []  # the body is parsed in one pass by telemetry.payloads

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "device_token",
                str,
                OpenApiParameter.PATH,
                description="The device's token: ThingsBoard's device API carries it in the path.",
            )
        ],
        request={"application/json": OpenApiTypes.ANY},
        responses={
            200: OpenApiResponse(description="stored; empty body"),
            400: OpenApiResponse(description="bad body"),
            401: OpenApiResponse(description="bad token"),
        },
        summary="ThingsBoard-compatible telemetry (device token in the path)",
    )
    def post(self, request, device_token: str):
        if self.is_empty_probe(request):
            return Response(status=200)
        ingest_body(request, request.auth, json_content_type=False)
        return Response(status=200)

    @staticmethod
    def is_empty_probe(request) -> bool:
        """ThingsBoard's SDKs post `{}` to test the connection, and ThingsBoard answers 200."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return False
        return 0 <= length <= EMPTY_PROBE_MAX_BYTES and request.body.strip() == b"{}"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Django's request logger writes the path of every 4xx and 5xx, and here the
        # path holds the device token.
        response._has_been_logged = True
        return response


class ThingsBoardUnsupportedView(APIView):
    """Any other ThingsBoard device path: 401 for a bad token, else 404."""

    authentication_classes = [DevicePathTokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes: list = []
    schema = None  # not an endpoint: the rest of ThingsBoard's device API, refused

    def handle(self, request, device_token: str, rest: str = ""):
        return Response(
            {"detail": "Not implemented: iotsite answers /telemetry, /attributes, /attributes/updates and /rpc."},
            status=404,
        )

    get = post = put = patch = delete = handle

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response._has_been_logged = True  # the path holds the device token
        return response
