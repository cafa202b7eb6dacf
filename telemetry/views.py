from datetime import timedelta

from django.core.handlers.asgi import ASGIRequest
from django.db import router
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import DeviceTokenAuthentication, IsDevice
from devices.selectors import device_get_for_user
from iotsite.replicas import replica_reads
from telemetry import selectors
from telemetry.export import export_csv, export_csv_async
from telemetry.filters import ExportFilter, ReadingRangeFilter
from telemetry.http import ingest_request
from telemetry.models import Reading
from telemetry.serializers import (
    SensorSerializer,
    SeriesParamsSerializer,
    SeriesSerializer,
    TelemetryAcceptedSerializer,
)

DEFAULT_RANGE = timedelta(days=1)


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
    @replica_reads
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
    @replica_reads
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
    @replica_reads
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
            # The blocks are read after this view returns: the database is chosen now.
            using=router.db_for_read(Reading),
        )
        if isinstance(request._request, ASGIRequest):
            chunks = export_csv_async(chunks)
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="iotsite-export-{stamp}.csv"'
        return response
