"""Store device telemetry published over MQTT: the worker behind `manage.py mqtt_ingest`.

Devices publish to `devices/{id}/telemetry` (QoS 1); the broker's ACL lets a device
publish to its own topic only, so the topic names the device. Workers share the
subscription `$share/{group}/devices/+/telemetry`: the broker hands each message to
one of them. Messages are parsed by telemetry.payloads and stored by
telemetry.services.readings_ingest_group, the same code as the HTTP API, and acknowledged
only once committed. Each worker keeps a persistent session under a stable client id,
so what a killed worker had received but not acknowledged is sent again when it comes
back (a reading with `ts` is then stored once; one without is stamped anew).

Messages that arrive together are stored in one transaction (a commit costs far more
than a reading), each still acknowledged only after that commit. A bad payload, or a
message for an unknown or revoked device, is counted, logged and acknowledged: sent
again it would be just as bad. So is a message whose parsing raises anything at all,
so that no single message can stop ingestion.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
import psycopg
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from prometheus_client import Gauge

from devices.models import Device
from devices.selectors import devices_with_token_by_id
from telemetry import payloads, services

logger = logging.getLogger(__name__)

TOPIC_FILTER = "devices/+/telemetry"
STATS_INTERVAL_S = 60.0
# Two workers may store readings of the same sensors at once (the broker spreads a
# device's messages over them); the database may end one transaction to break a deadlock.
TRANSIENT_ERRORS = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
TRANSIENT_RETRIES = 5
ONE_MICROSECOND = timedelta(microseconds=1)


# Received from the broker and not yet stored: /metrics shows it when the workers share
# PROMETHEUS_MULTIPROC_DIR with the web processes (docs/protocols.md).
QUEUE_DEPTH = Gauge(
    "iotsite_mqtt_ingest_queue_messages",
    "MQTT messages received by mqtt_ingest and not yet stored.",
    multiprocess_mode="livesum",
)


class IngestStopped(Exception):
    pass


def _paho_properties_shared() -> None:
    """paho builds its tables of MQTT v5 property names and types anew for every
    PUBLISH it receives: half of its network thread's time at a few thousand messages
    a second (a py-spy profile of bench/mqtt.py). The tables never change; build them
    once and share them."""
    if getattr(Properties, "_iotsite_shared_tables", False):
        return
    template = Properties(PacketTypes.PUBLISH)
    types, names, properties = template.types, template.names, template.properties

    def __init__(self, packetType) -> None:
        self.packetType = packetType
        self.types, self.names, self.properties = types, names, properties

    Properties.__init__ = __init__  # type: ignore[method-assign]
    Properties._iotsite_shared_tables = True  # type: ignore[attr-defined]


_paho_properties_shared()


def device_id_of_topic(topic: str) -> int | None:
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != "devices" or parts[2] != "telemetry" or not parts[1].isdigit():
        return None
    return int(parts[1])


@dataclass
class IngestCounts:
    messages: int = 0  # received
    stored: int = 0  # messages whose readings are committed
    readings: int = 0
    duplicates: int = 0
    bad_payload: int = 0
    unknown_device: int = 0
    failed: int = 0  # valid, but the database refused them (e.g. the device was just deleted)
    batches: int = 0
    database_waits: int = 0  # tries of a batch that found the database away

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _DeviceBatch:
    readings: list[payloads.ParsedReading] = field(default_factory=list)
    messages: list[mqtt.MQTTMessage] = field(default_factory=list)
    received_at: datetime | None = None


class TelemetryIngest:
    """One worker: a paho client receiving into a queue, and a loop storing from it."""

    def __init__(self, *, client_id: str, batch_messages: int | None = None):
        self.client_id = client_id
        self.batch_messages = batch_messages or settings.MQTT_BATCH_MESSAGES
        self.counts = IngestCounts()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._connect_error: str | None = None
        self._session_present = False
        self._share = f"$share/{settings.MQTT_SHARE_GROUP}/{TOPIC_FILTER}"
        self._last_now = timezone.now()
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        client.username_pw_set(settings.MQTT_USERNAME, settings.MQTT_PASSWORD)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        return client

    # --- the network thread -------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._connect_error = f"the broker refused the connection: {reason_code}"
            logger.error("MQTT: %s", self._connect_error)
            self.connected.set()
            return
        self._session_present = flags.session_present
        client.subscribe(self._share, options=SubscribeOptions(qos=1))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            self._connect_error = f"the broker refused the subscription: {reason_codes[0]}"
            logger.error("MQTT: %s", self._connect_error)
        else:
            logger.info(
                "MQTT: %s subscribed to %s (session resumed: %s)", self.client_id, self._share, self._session_present
            )
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if not self._stop.is_set():
            logger.warning("MQTT: disconnected (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        self._inbox.put(message)

    # --- the storing loop ---------------------------------------------------------------

    def start(self) -> None:
        """Connect and subscribe; raises IngestStopped when the broker refuses."""
        connect_properties = Properties(PacketTypes.CONNECT)
        connect_properties.SessionExpiryInterval = int(settings.MQTT_SESSION_EXPIRY.total_seconds())
        connect_properties.ReceiveMaximum = settings.MQTT_RECEIVE_MAXIMUM
        try:
            self._client.connect(
                settings.MQTT_HOST, settings.MQTT_PORT, keepalive=30, clean_start=False, properties=connect_properties
            )
        except OSError as error:
            raise IngestStopped(f"cannot reach {settings.MQTT_HOST}:{settings.MQTT_PORT}: {error}") from None
        self._client.loop_start()
        if not self.connected.wait(settings.MQTT_TIMEOUT.total_seconds()) or self._connect_error:
            self._client.loop_stop()
            raise IngestStopped(self._connect_error or "the broker did not answer in time")

    def stop(self) -> None:
        """Finish the batch in hand, then leave; what is still queued stays unacknowledged,
        and the broker sends it again to this client id."""
        self._stop.set()

    def run(self) -> None:
        self.start()
        next_stats = time.monotonic() + STATS_INTERVAL_S
        try:
            while not self._stop.is_set():
                batch = self._next_batch()
                if batch:
                    self._store_until_done(batch)
                if time.monotonic() >= next_stats:
                    logger.info("MQTT ingest: %s", self.counts.as_dict())
                    next_stats = time.monotonic() + STATS_INTERVAL_S
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            logger.info("MQTT ingest stopped: %s", self.counts.as_dict())

    def _next_batch(self) -> list[mqtt.MQTTMessage]:
        QUEUE_DEPTH.set(self._inbox.qsize())
        try:
            batch = [self._inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < self.batch_messages:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _store_until_done(self, messages: list[mqtt.MQTTMessage]) -> None:
        """A database away for a while (a failover, a restart) is waited out here, the
        batch unacknowledged meanwhile; each try opens a new connection, which finds
        the new primary through DATABASE_URL's hosts. Stopping meanwhile leaves the batch
        to the broker, which sends it again."""
        delay = 0.2
        while True:
            try:
                self.store_and_ack(messages)
                return
            except (OperationalError, InterfaceError) as error:
                if self._stop.is_set():
                    raise
                self.counts.database_waits += 1
                logger.warning("MQTT: the database is unavailable (%s); trying the batch again in %.1f s", error, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def store_and_ack(self, messages: list[mqtt.MQTTMessage]) -> None:
        close_old_connections()  # a worker runs for months; the database may have restarted
        self.counts.messages += len(messages)
        self.counts.batches += 1
        by_device = self._parse(messages)
        try:
            self._store(by_device)
        except (OperationalError, InterfaceError):
            raise  # the database is away: everything stays unacknowledged; the caller waits it out
        except DatabaseError:
            # One device's readings spoiled the transaction: store device by device.
            for device, batch in by_device.items():
                try:
                    self._store({device: batch})
                except (OperationalError, InterfaceError):
                    raise
                except DatabaseError as error:
                    self.counts.failed += len(batch.messages)
                    logger.error("MQTT: readings of device %s not stored: %s", device.pk, error)
        for message in messages:
            self._client.ack(message.mid, message.qos)

    def _store(self, by_device: dict[Device, _DeviceBatch]) -> None:
        """One transaction and one statement for all (a device whose readings the
        database refuses is stored apart and fails alone); retried when it lost a
        deadlock to another worker."""
        # Devices in id order: workers sharing the subscription lock rows in one order.
        in_order = sorted(by_device.items(), key=lambda item: item[0].pk)
        entries = [
            services.IngestEntry(device, batch.readings, batch.received_at or timezone.now())
            for device, batch in in_order
        ]
        for attempt in range(1, TRANSIENT_RETRIES + 1):
            try:
                outcomes = services.readings_ingest_group(entries)
                break
            except OperationalError as error:
                if attempt == TRANSIENT_RETRIES or not isinstance(error.__cause__, TRANSIENT_ERRORS):
                    raise
                logger.info("MQTT: %s; retrying the batch", type(error.__cause__).__name__)
                time.sleep(0.01 * attempt)
        for (device, batch), outcome in zip(in_order, outcomes, strict=True):
            if isinstance(outcome, DatabaseError):
                self.counts.failed += len(batch.messages)
                logger.error("MQTT: readings of device %s not stored: %s", device.pk, outcome)
            elif isinstance(outcome, Exception):
                raise outcome  # a bug, not a bad message: leave the batch unacknowledged
            else:
                self.counts.stored += len(batch.messages)
                self.counts.readings += outcome.accepted
                self.counts.duplicates += outcome.duplicates

    def _parse(self, messages: list[mqtt.MQTTMessage]) -> dict[Device, _DeviceBatch]:
        device_ids = {device_id for message in messages if (device_id := device_id_of_topic(message.topic)) is not None}
        devices = devices_with_token_by_id(device_ids=device_ids)
        limits = payloads.payload_limits()
        by_device: dict[int, _DeviceBatch] = defaultdict(_DeviceBatch)
        unknown: Counter[str] = Counter()
        for message in messages:
            device = devices.get(device_id_of_topic(message.topic) or 0)
            if device is None:
                unknown[message.topic] += 1
                continue
            now = self._arrival_time()
            try:
                readings = self._parse_payload(message.payload, now=now, limits=limits)
            except payloads.PayloadError as error:
                self.counts.bad_payload += 1
                logger.warning("MQTT: bad payload from device %s: %s", device.pk, error.as_json()["detail"])
                continue
            except Exception as error:
                # A parser bug this message found: it would raise again on every redelivery
                # and stop ingestion for every device, so it is this message's bad payload.
                self.counts.bad_payload += 1
                logger.warning(
                    "MQTT: bad payload from device %s: %s: %s", device.pk, type(error).__name__, error, exc_info=True
                )
                continue
            batch = by_device[device.pk]
            batch.readings.extend(readings)
            batch.messages.append(message)
            batch.received_at = now
        for topic, count in unknown.items():
            self.counts.unknown_device += count
            logger.warning("MQTT: %d message(s) on %s dropped: no such device, or its token was revoked", count, topic)
        return {devices[device_id]: batch for device_id, batch in by_device.items()}

    @staticmethod
    def _parse_payload(payload: bytes, *, now: datetime, limits: payloads.PayloadLimits):
        if len(payload) > settings.TELEMETRY_MAX_BODY_BYTES:
            raise payloads.PayloadError(f"The body exceeds {settings.TELEMETRY_MAX_BODY_BYTES} bytes.", status=413)
        return payloads.parse_readings(payloads.parse_json(payload), now=now, limits=limits)

    def _arrival_time(self) -> datetime:
        # Strictly increasing: two untimed messages of a device parsed within the same
        # microsecond would otherwise collide, and the second be taken for a duplicate.
        now = timezone.now()
        if now <= self._last_now:
            now = self._last_now + ONE_MICROSECOND
        self._last_now = now
        return now
