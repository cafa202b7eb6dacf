from datetime import timedelta

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import DeviceTokenAuthentication, IsDevice
from devices.selectors import device_get_for_user
from telemetry import payloads, selectors, services
from telemetry.export import export_csv, export_csv_async
from telemetry.filters import ExportFilter, ReadingRangeFilter
from telemetry.models import Reading
from telemetry.serializers import (
    SensorSerializer,
    SeriesParamsSerializer,
    SeriesSerializer,
    TelemetryAcceptedSerializer,
)

DEFAULT_RANGE = timedelta(days=1)
IDEMPOTENCY_KEY_MAX_LENGTH = 255


def payload_limits() -> payloads.PayloadLimits:
    return payloads.PayloadLimits(
        max_readings=settings.TELEMETRY_MAX_BATCH, future_margin=settings.TELEMETRY_FUTURE_MARGIN
    )


def read_body(request) -> bytes:
    """The raw body, refused with 413 past TELEMETRY_MAX_BODY_BYTES even when the
    client sent no Content-Length."""
    limit = settings.TELEMETRY_MAX_BODY_BYTES
    too_large = payloads.PayloadError(f"The body exceeds {limit} bytes.", status=413)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise payloads.PayloadError("Content-Length is not a number.") from None
    if declared > limit:
        raise too_large
    body = request._request.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise payloads.PayloadError(
            f"Must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters.", field="Idempotency-Key"
        )
    return key


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def ingest_request(request, device) -> Response:
    """Parse, validate and store a telemetry body: shared by every device HTTP endpoint."""
    try:
        result = ingest_body(request, device)
    except payloads.PayloadError as error:
        return Response(error.as_json(), status=error.status)
    return Response(result.as_json(), status=status.HTTP_201_CREATED)


def ingest_body(request, device, *, json_content_type: bool = True) -> services.IngestResult:
    """The readings of a request, stored; PayloadError for a bad one. Firmware written
    for ThingsBoard may not label its JSON, so that endpoint passes json_content_type=False."""
    if json_content_type and not is_json(request.content_type or ""):
        raise payloads.PayloadError("Send the body as application/json.", field="Content-Type", status=415)
    body = read_body(request)
    key = idempotency_key(request)
    now = timezone.now()
    readings = payloads.parse_readings(payloads.parse_json(body), now=now, limits=payload_limits())
    if key is None:
        return services.readings_ingest(device=device, readings=readings, received_at=now)
    return services.readings_ingest_once(
        device=device, readings=readings, received_at=now, idempotency_key=key, body=body
    )


class TelemetryView(APIView):
    """A device sends readings: one value, several sensors, timestamped items, or a batch."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes: list = []  # the body is parsed in one pass by telemetry.payloads

    @extend_schema(
        request={"application/json": OpenApiTypes.ANY},
        responses={201: TelemetryAcceptedSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def post(self, request):
        return ingest_request(request, request.auth)


class SensorListView(APIView):
    @extend_schema(responses=SensorSerializer(many=True))
    def get(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        return Response(SensorSerializer(selectors.sensors_of_device(device=device), many=True).data)


def query_errors(errors) -> ValidationError:
    return ValidationError({field: list(messages) for field, messages in errors.items()})


class ReadingSeriesView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("sensor", str, description="sensor key; optional when the device has one sensor"),
            OpenApiParameter("start", OpenApiTypes.DATETIME, description="default: end - 1 day"),
            OpenApiParameter("end", OpenApiTypes.DATETIME, description="default: now"),
            OpenApiParameter("points", int, description="at most this many points (default 1000)"),
            OpenApiParameter("tz", str, description="IANA zone: day and week buckets start at its midnight"),
        ],
        responses=SeriesSerializer,
    )
    def get(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        params = SeriesParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        time_range = ReadingRangeFilter(data=request.query_params, queryset=Reading.objects.none())
        if not time_range.is_valid():
            raise query_errors(time_range.errors)
        end = time_range.form.cleaned_data.get("end") or timezone.now()
        start = time_range.form.cleaned_data.get("start") or end - DEFAULT_RANGE
        if start >= end:
            raise ValidationError({"start": ["Must be before end."]})
        sensor = self._sensor(device, params.validated_data.get("sensor"))
        series = selectors.reading_series(
            sensor=sensor,
            start=start,
            end=end,
            points=params.validated_data["points"],
            tz=params.validated_data.get("tz"),
        )
        return Response(SeriesSerializer(series).data)

    @staticmethod
    def _sensor(device, key):
        if key is None:
            sensors = list(selectors.sensors_of_device(device=device)[:2])
            if len(sensors) == 1:
                return sensors[0]
            raise ValidationError({"sensor": ["This field is required when a device has several sensors (or none)."]})
        sensor = selectors.sensor_of_device(device=device, key=key)
        if sensor is None:
            raise ValidationError({"sensor": [f"This device has no sensor {key!r}."]})
        return sensor


class ExportView(APIView):
    """All my readings as CSV, streamed: device_id,device_name,sensor,timestamp,value."""

    @extend_schema(
        parameters=[
            OpenApiParameter("device", int),
            OpenApiParameter("sensor", str),
            OpenApiParameter("start", OpenApiTypes.DATETIME),
            OpenApiParameter("end", OpenApiTypes.DATETIME),
            OpenApiParameter(
                "raw",
                bool,
                description="true: device names and sensor keys exactly as stored. By default a cell that"
                " starts with = + - @, a tab or a carriage return (and is not a number) gets a leading '"
                " so that a spreadsheet does not run it as a formula.",
            ),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        filters = ExportFilter(data=request.query_params, queryset=Reading.objects.none())
        if not filters.is_valid():
            raise query_errors(filters.errors)
        wanted = filters.form.cleaned_data
        device_id = int(wanted["device"]) if wanted.get("device") is not None else None
        if device_id is not None:
            device_get_for_user(user=request.user, device_id=device_id)  # 404 unless mine
        if wanted.get("start") and wanted.get("end") and wanted["start"] >= wanted["end"]:
            raise ValidationError({"start": ["Must be before end."]})
        chunks = export_csv(
            user=request.user,
            device_id=device_id,
            sensor=wanted.get("sensor") or None,
            start=wanted.get("start"),
            end=wanted.get("end"),
            raw=wanted.get("raw") in ("true", "1"),
        )
        if isinstance(request._request, ASGIRequest):
            chunks = export_csv_async(chunks)
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="iotsite-export-{stamp}.csv"'
        return response
