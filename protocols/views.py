"""HTTP endpoints of the compatible protocols. Thin: authenticate, read the body, hand
the readings to telemetry.services, and answer as the original service would."""

from __future__ import annotations

import zlib

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import IsDevice
from iotsite.errors import DomainError
from protocols import influxdb, thingspeak
from protocols.authentication import (
    InfluxV1Authentication,
    InfluxV2TokenAuthentication,
    ThingSpeakKeyAuthentication,
)
from telemetry import payloads, services
from telemetry.http import read_body
from telemetry.payloads import payload_limits

INFLUX_VERSION = "2.7.0-iotsite"  # what /ping answers in X-Influxdb-Version: clients only log it
_INFLUX_CODES = {401: "unauthorized", 405: "method not allowed", 413: "request too large", 429: "too many requests"}


def gunzipped(body: bytes, *, encoding: str, limit: int) -> bytes:
    """The body as sent before `Content-Encoding: gzip`; 413 past `limit` bytes once
    decompressed, so a small bomb cannot expand in memory."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise influxdb.LineProtocolError(
            f"unsupported Content-Encoding {encoding[:40]!r}; send gzip or identity",
            status=415,
            code="unsupported media type",
        )
    parts: list[bytes] = []
    size, rest = 0, body
    while True:  # a gzip stream may hold several members, one after the other
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            part = decompressor.decompress(rest, limit + 1 - size)
        except zlib.error as error:
            raise influxdb.LineProtocolError(f"unable to decompress the gzip body: {error}") from None
        size += len(part)
        if size > limit:
            raise influxdb.LineProtocolError(
                f"the decompressed body exceeds {limit} bytes", status=413, code="request too large"
            )
        if not decompressor.eof:
            raise influxdb.LineProtocolError("unable to decompress the gzip body: it is truncated")
        parts.append(part)
        rest = decompressor.unused_data
        if not rest:
            return b"".join(parts)


class InfluxWriteView(APIView):
    """InfluxDB 2's `POST /api/v2/write?bucket=&precision=`: line protocol, 204 once stored."""

    authentication_classes = [InfluxV2TokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes: list = []  # the body is read raw and parsed by protocols.influxdb
    precisions = influxdb.PRECISIONS_V2
    database_param = "bucket"

    @extend_schema(
        request={"text/plain": OpenApiTypes.STR},
        parameters=[
            OpenApiParameter("bucket", str, required=True, description="any name: the token names the device"),
            OpenApiParameter("org", str, description="ignored"),
            OpenApiParameter("precision", str, enum=list(influxdb.PRECISIONS_V2), description="default ns"),
        ],
        responses={204: OpenApiResponse(description="stored"), 400: OpenApiResponse(description="bad line")},
        summary="InfluxDB 2 line protocol write (Authorization: Token <device token>)",
    )
    def post(self, request):
        try:
            readings = self._readings(request)
        except influxdb.LineProtocolError as error:
            return self.error_response(error.as_json(), status=error.status)
        services.readings_ingest(device=request.auth, readings=readings, received_at=timezone.now())
        return Response(status=204)

    def _readings(self, request) -> list[payloads.ParsedReading]:
        if not request.query_params.get(self.database_param):
            raise influxdb.LineProtocolError(self.missing_database_message())
        raw_precision = request.query_params.get("precision") or "ns"
        precision = self.precisions.get(raw_precision)
        if precision is None:
            raise influxdb.LineProtocolError(
                f"invalid precision {raw_precision[:20]!r}; use {', '.join(self.precisions)}"
            )
        limit = settings.TELEMETRY_MAX_BODY_BYTES
        try:
            body = read_body(request)
        except payloads.PayloadError as error:
            raise influxdb.LineProtocolError(error.message, status=error.status, code=_code(error.status)) from None
        body = gunzipped(body, encoding=request.headers.get("Content-Encoding", ""), limit=limit)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise influxdb.LineProtocolError(f"the body is not UTF-8 (byte {error.start})") from None
        return influxdb.parse_body(
            text,
            precision_ns=precision,
            tag_mode=influxdb.tag_mode_of(request.auth.config),
            now=timezone.now(),
            limits=payload_limits(),
        )

    @staticmethod
    def missing_database_message() -> str:
        return "bucket is required"

    def error_response(self, body: dict, *, status: int) -> Response:
        return Response(body, status=status)

    def handle_exception(self, exc):
        """DRF's answer (status, WWW-Authenticate, Retry-After) in InfluxDB's words."""
        response = super().handle_exception(exc)
        if isinstance(exc, exceptions.APIException | DomainError):
            detail = exc.message if isinstance(exc, DomainError) else str(exc.detail)
            message = "unauthorized access" if response.status_code == 401 else detail
            response.data = self.error_response(
                {"code": _code(response.status_code), "message": message}, status=response.status_code
            ).data
        return response


class InfluxV1WriteView(InfluxWriteView):
    """InfluxDB 1.x's `POST /write?db=&precision=`: the token as `p` (with any `u`), as the
    basic-auth password, or in `Authorization: Token`. Errors carry 1.x's `error` key
    beside 2.x's `code` and `message`, for clients of either."""

    authentication_classes = [InfluxV1Authentication]
    precisions = influxdb.PRECISIONS_V1
    database_param = "db"

    @extend_schema(
        request={"text/plain": OpenApiTypes.STR},
        parameters=[
            OpenApiParameter("db", str, required=True, description="any name: the token names the device"),
            OpenApiParameter("u", str, description="any user name"),
            OpenApiParameter("p", str, description="the device token"),
            OpenApiParameter("precision", str, enum=list(influxdb.PRECISIONS_V1), description="default ns"),
        ],
        responses={204: OpenApiResponse(description="stored"), 400: OpenApiResponse(description="bad line")},
        summary="InfluxDB 1.x line protocol write (device token as password)",
    )
    def post(self, request):
        return super().post(request)

    @staticmethod
    def missing_database_message() -> str:
        return "database is required"

    def error_response(self, body: dict, *, status: int) -> Response:
        return Response({**body, "error": body["message"]}, status=status)


def _code(status: int) -> str:
    return _INFLUX_CODES.get(status, "invalid")


@extend_schema(exclude=True)
class InfluxPingView(APIView):
    """`/ping`: clients and Telegraf check the server is up before writing."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def get(self, request):
        response = HttpResponse(status=204)
        response["X-Influxdb-Version"] = INFLUX_VERSION
        response["X-Influxdb-Build"] = "OSS"
        return response

    head = get


@extend_schema(exclude=True)
class ThingSpeakUpdateView(APIView):
    """ThingSpeak's `GET/POST /update?api_key=&field1=…&field8=&created_at=`: the entry
    number as plain text, or `0` when the update is refused.

    Out of the OpenAPI schema: it answers in ThingSpeak's terms, not ours (a refused
    key is 400 and `0`, not 401 and JSON), so it is documented in docs/protocols.md.
    """

    authentication_classes = [ThingSpeakKeyAuthentication]
    permission_classes = [IsDevice]
    parser_classes: list = []  # the body is read once in initial(), before authentication needs it
    as_json = False

    def initial(self, request, *args, **kwargs):
        body = read_body(request) if request.method == "POST" else b""
        request._thingspeak_form = thingspeak.form_of(body, content_type=request.content_type or "")
        super().initial(request, *args, **kwargs)

    def get(self, request):
        return self._update(request)

    def post(self, request):
        return self._update(request)

    def _update(self, request):
        params = {**request._thingspeak_form, **request.query_params.dict()}
        entry = thingspeak.update(device=request.auth, params=params, now=timezone.now(), limits=payload_limits())
        if self.as_json:
            return JsonResponse(entry.as_json())
        return HttpResponse(str(entry.entry_id), content_type="text/plain; charset=utf-8")

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.APIException | DomainError):
            # ThingSpeak answers a refused update with the entry number 0: status 400 for a
            # bad key, 200 for an update it did not insert (rate, value). Its Arduino
            # library reads these as "bad API key" and "not inserted".
            bad_key = isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated)
            return HttpResponse("0", status=400 if bad_key else 200, content_type="text/plain; charset=utf-8")
        return super().handle_exception(exc)


class ThingSpeakUpdateJsonView(ThingSpeakUpdateView):
    as_json = True
