"""Prometheus metrics for operators: `GET /metrics` with `Authorization: Bearer <METRICS_TOKEN>`.

Two kinds, chosen by where the truth lives:
- Counted in the process (prometheus_client): HTTP requests by route and status,
  ingest request latency by protocol, readings stored (a hook after each commit),
  live WebSocket connections, the bridge's inbox. Under several worker processes set
  PROMETHEUS_MULTIPROC_DIR (an empty directory, the same for every process, cleared at
  start): prometheus_client then keeps these in shared files and /metrics adds them up.
- Read from the database at each scrape, exact whatever the number of processes:
  the alert outbox backlog, devices and sensors, readings (the planner's estimate on
  PostgreSQL), and bridge brokers by state. A failing query leaves these out and sets
  iotsite_metrics_database_up to 0; it never fails the scrape.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from devices.models import Device
from iotsite.middleware import SyncAndAsyncMiddleware
from telemetry import hooks
from telemetry.payloads import ParsedReading

logger = logging.getLogger(__name__)

# Route names of the endpoints that ingest readings, and the protocol each speaks.
INGEST_ROUTES = {
    "telemetry": "json",
    "telemetry-image": "image",
    "thingsboard-telemetry": "thingsboard",
    "influxdb-v2-write": "influxdb_v2",
    "influxdb-v1-write": "influxdb_v1",
    "thingspeak-update": "thingspeak",
    "thingspeak-update-json": "thingspeak",
}
ONLINE_WINDOW = timedelta(minutes=5)

HTTP_REQUESTS = Counter(
    "iotsite_http_requests", "HTTP requests answered, by route name, method and status.", ["route", "method", "status"]
)
INGEST_SECONDS = Histogram(
    "iotsite_ingest_request_seconds",
    "Time to answer an ingest request (parse, validate, store), by protocol.",
    ["protocol"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
READINGS_STORED = Counter("iotsite_readings_stored", "Readings committed (duplicates not counted), every source.")
LIVE_CONNECTIONS = Gauge("iotsite_live_connections", "Open WebSocket connections (/ws/).", multiprocess_mode="livesum")
BRIDGE_QUEUE = Gauge(
    "iotsite_bridge_queue_messages",
    "MQTT messages received by mqtt_bridge and not yet handled.",
    multiprocess_mode="livesum",
)


def register_hooks() -> None:
    hooks.on_readings_stored(_count_stored)


def _count_stored(device: Device, readings: Sequence[ParsedReading]) -> None:
    READINGS_STORED.inc(len(readings))


class MetricsMiddleware(SyncAndAsyncMiddleware):
    """Counts every request by route, and times the ingest endpoints."""

    def call(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        _observe(request, response, started)
        return response

    async def acall(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        _observe(request, response, started)
        return response


def _observe(request, response, started: float) -> None:
    match = getattr(request, "resolver_match", None)
    route = (match.url_name or match.route) if match is not None else "unmatched"
    HTTP_REQUESTS.labels(route=route, method=request.method, status=str(response.status_code)).inc()
    protocol = INGEST_ROUTES.get(route)
    if protocol is not None:
        INGEST_SECONDS.labels(protocol=protocol).observe(time.perf_counter() - started)


def count_live_connections(app):
    """ASGI wrapper: a WebSocket counts from its accept to its end."""

    async def counted(scope, receive, send):
        accepted = False

        async def counting_send(message):
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                LIVE_CONNECTIONS.inc()
            await send(message)

        try:
            return await app(scope, receive, counting_send)
        finally:
            if accepted:
                LIVE_CONNECTIONS.dec()

    return counted


class DatabaseCollector(Collector):
    """Figures read from the database at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from alerts.models import Notification
        from protocols.models import BridgeBroker
        from telemetry import storage
        from telemetry.models import Sensor

        up = GaugeMetricFamily("iotsite_metrics_database_up", "1 when the database figures below could be read.")
        try:
            backlog = Notification.objects.filter(status__in=[Notification.PENDING, Notification.SENDING]).count()
            devices = Device.objects.count()
            online = Device.objects.filter(last_seen_at__gte=timezone.now() - ONLINE_WINDOW).count()
            sensors = Sensor.objects.count()
            readings = storage.readings_estimated_count()
            brokers = list(BridgeBroker.objects.filter(enabled=True).values_list("status", flat=True))
        except DatabaseError as error:
            logger.warning("metrics: database figures not read: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "iotsite_alert_outbox_backlog",
            "Alert notifications waiting to be sent (pending or sending).",
            value=backlog,
        )
        yield GaugeMetricFamily("iotsite_devices", "Devices.", value=devices)
        yield GaugeMetricFamily(
            "iotsite_devices_online", f"Devices seen in the last {int(ONLINE_WINDOW.total_seconds())} s.", value=online
        )
        yield GaugeMetricFamily("iotsite_sensors", "Sensors.", value=sensors)
        if readings is not None:
            yield GaugeMetricFamily(
                "iotsite_readings_estimated", "Stored readings, as the planner estimates.", value=readings
            )
        bridge = GaugeMetricFamily(
            "iotsite_bridge_brokers", "Enabled bridge brokers, by connection state.", labels=["state"]
        )
        connected = sum(1 for status in brokers if status == "connected")
        bridge.add_metric(["connected"], connected)
        bridge.add_metric(["other"], len(brokers) - connected)
        yield bridge


def exposition() -> bytes:
    """The text the scrape gets: the process metrics (added up across processes in
    multiprocess mode), then the database figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    database_registry = CollectorRegistry(auto_describe=False)
    database_registry.register(DatabaseCollector())
    return generate_latest(process_registry) + generate_latest(database_registry)


def bearer_token_matches(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    # An unset token refuses everyone: metrics switched on without a token stay private.
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), expected)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404("Metrics are off (METRICS_ENABLED).")
    if not bearer_token_matches(request):
        response = HttpResponse("Send Authorization: Bearer <METRICS_TOKEN>.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # The 0.0.4 text format: every Prometheus version reads it, and our names need no more.
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
