"""The worker behind `manage.py mqtt_bridge`: one MQTT client per enabled bridge broker.

Each client subscribes to the broker's discovery topics (`<prefix>/+/+/config` and
`<prefix>/+/+/+/config`); a discovered sensor or binary_sensor creates its device and
sensor (protocols.bridge.services) and adds its state topic to the subscriptions.
State messages are read through the entity's value_template and stored by
telemetry.services.readings_ingest, stamped with their arrival time. The paho
callbacks only queue; every database write happens on the worker's own thread. The
broker list is read again every few seconds, so brokers added, changed, disabled or
deleted in the dashboard take effect without a restart.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from protocols.bridge import addresses, discovery, selectors, services, templates
from protocols.metrics import BRIDGE_QUEUE
from protocols.models import BridgeBroker
from telemetry.payloads import PayloadError

logger = logging.getLogger(__name__)

ONE_MICROSECOND = timedelta(microseconds=1)
STATS_INTERVAL_S = 60.0


@dataclass
class BridgeCounts:
    discovered: int = 0
    removed: int = 0
    ignored: int = 0  # discovery of components other than sensor and binary_sensor
    bad_discovery: int = 0
    states: int = 0
    readings: int = 0
    unreadable: int = 0  # a value_template of a form the bridge does not evaluate
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Message:
    broker_id: int
    topic: str
    payload: bytes


@dataclass(frozen=True)
class _Status:
    broker_id: int
    status: str


@dataclass
class BrokerLink:
    """One broker's client; its callbacks run on paho's thread and only queue."""

    broker: BridgeBroker
    inbox: queue.Queue
    state_topics: set[str] = field(default_factory=set)
    connected: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.key = settings_key(self.broker)
        self.prefix = self.broker.discovery_prefix
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"iotsite-bridge-{self.broker.pk}", protocol=mqtt.MQTTv311
        )
        if self.broker.username:
            client.username_pw_set(self.broker.username, services.broker_password(broker=self.broker) or None)
        if self.broker.tls:
            client.tls_set()  # the system's certificate authorities
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.reconnect_delay_set(min_delay=1, max_delay=60)
        self.client = client
        self._stopping = False
        self._refused = False

    def start(self) -> None:
        try:
            checked = addresses.broker_addresses(self.broker.host, self.broker.port)
            # Plain MQTT goes to the address just checked, so a DNS answer that changes
            # before the connect cannot redirect it; TLS keeps the name its certificate
            # must match, and a redirected handshake fails before any MQTT is sent.
            target = self.broker.host if self.broker.tls else checked[0]
            self.client.connect_async(target, self.broker.port, keepalive=30)
        except addresses.BrokerRefused as refused:
            self.inbox.put(_Status(self.broker.pk, f"refused by the server's address rule: {refused}"))
            return
        except (OSError, UnicodeError, ValueError) as error:
            self.inbox.put(_Status(self.broker.pk, f"cannot connect: {error}"))
            return
        self.client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        self.client.disconnect()
        self.client.loop_stop()

    def follow(self, topics: set[str]) -> None:
        """Subscribe to state topics not yet followed (again on every reconnect)."""
        new = topics - self.state_topics
        self.state_topics |= new
        if new and self.connected.is_set():
            self.client.subscribe([(topic, 0) for topic in sorted(new)])

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._refused = True
            self.inbox.put(_Status(self.broker.pk, f"refused: {reason_code}"))
            return
        self._refused = False
        topics = [*discovery.discovery_filters(self.prefix), *sorted(self.state_topics)]
        client.subscribe([(topic, 0) for topic in topics])
        self.connected.set()
        self.inbox.put(_Status(self.broker.pk, "connected"))

    def _on_connect_fail(self, client, userdata) -> None:
        self.inbox.put(_Status(self.broker.pk, f"cannot reach {self.broker.host}:{self.broker.port}"))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        # After a refusal the disconnect says nothing new: keep "refused" on show.
        if not self._stopping and not self._refused:
            self.inbox.put(_Status(self.broker.pk, f"disconnected: {reason_code}; reconnecting"))

    def _on_message(self, client, userdata, message) -> None:
        self.inbox.put(_Message(self.broker.pk, message.topic, message.payload))


def settings_key(broker: BridgeBroker) -> tuple:
    return (broker.host, broker.port, broker.tls, broker.username, broker.password_ciphertext, broker.discovery_prefix)


class Bridge:
    def __init__(self, *, reload_interval: float = 10.0):
        self.reload_interval = reload_interval
        self.counts = BridgeCounts()
        self.inbox: queue.Queue = queue.Queue()
        self.links: dict[int, BrokerLink] = {}
        self.readers: dict[int, dict[str, list[services.StateReader]]] = {}
        self._stop = threading.Event()
        self._last_now = timezone.now()
        self._unreadable_logged: set[tuple[int, str]] = set()
        self.statuses: dict[int, str] = {}  # broker id → its last status, as written to the database

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        next_reload = 0.0
        next_stats = time.monotonic() + STATS_INTERVAL_S
        try:
            while not self._stop.is_set():
                if time.monotonic() >= next_reload:
                    self.reload()
                    next_reload = time.monotonic() + self.reload_interval
                try:
                    item = self.inbox.get(timeout=0.2)
                except queue.Empty:
                    BRIDGE_QUEUE.set(0)
                    continue
                BRIDGE_QUEUE.set(self.inbox.qsize())
                self.handle(item)
                if time.monotonic() >= next_stats:
                    logger.info("MQTT bridge: %s", self.counts.as_dict())
                    next_stats = time.monotonic() + STATS_INTERVAL_S
        finally:
            for broker_id, link in self.links.items():
                link.stop()
                try:
                    # The page would otherwise show "connected" for a bridge that is gone.
                    services.broker_status_set(broker_id=broker_id, status="the bridge stopped")
                except DatabaseError:
                    pass
            self.links.clear()
            logger.info("MQTT bridge stopped: %s", self.counts.as_dict())

    def reload(self) -> None:
        """Start, restart or stop clients to match the enabled brokers."""
        close_old_connections()
        brokers = {broker.pk: broker for broker in selectors.brokers_enabled()}
        for broker_id in list(self.links):
            link = self.links[broker_id]
            if broker_id not in brokers or link.key != settings_key(brokers[broker_id]):
                link.stop()
                del self.links[broker_id]
        for broker_id, broker in brokers.items():
            self.readers[broker_id] = selectors.state_readers_of_broker(broker_id=broker_id)
            existing = self.links.get(broker_id)
            if existing is None:
                link = self.links[broker_id] = BrokerLink(broker=broker, inbox=self.inbox)
                link.follow(set(self.readers[broker_id]))
                link.start()
                logger.info("MQTT bridge: connecting to broker %s (%s:%s)", broker.pk, broker.host, broker.port)
            else:
                existing.broker = broker  # its name and owner may have changed
                existing.follow(set(self.readers[broker_id]))

    def handle(self, item: _Message | _Status) -> None:
        close_old_connections()
        try:
            if isinstance(item, _Status):
                services.broker_status_set(broker_id=item.broker_id, status=item.status)
                self.statuses[item.broker_id] = item.status
                return
            link = self.links.get(item.broker_id)
            if link is None:
                return  # a message queued before its broker was stopped
            where = discovery.parse_topic(item.topic, prefix=link.prefix)
            if where is not None:
                self._discovery(link, item, where)
            else:
                self._state(item)
        except DatabaseError as error:
            self.counts.failed += 1
            logger.error(
                "MQTT bridge: broker %s, %s: not stored: %s", item.broker_id, getattr(item, "topic", ""), error
            )
        except Exception:
            # One odd message must not stop every owner's bridge: log it whole and go on.
            self.counts.failed += 1
            logger.exception("MQTT bridge: broker %s, %s: failed", item.broker_id, getattr(item, "topic", ""))

    def _discovery(self, link: BrokerLink, message: _Message, where: discovery.DiscoveryTopic) -> None:
        if where.component not in discovery.COMPONENTS:
            self.counts.ignored += 1
            return
        if not message.payload.strip():
            services.entity_removed(broker=link.broker, discovery_topic=message.topic)
            self.counts.removed += 1
        else:
            try:
                entity = discovery.parse_config(where, message.payload)
            except discovery.DiscoveryError as error:
                self.counts.bad_discovery += 1
                logger.warning("MQTT bridge: broker %s, %s: %s", link.broker.pk, message.topic, error)
                return
            services.entity_discovered(broker=link.broker, discovery_topic=message.topic, entity=entity)
            self.counts.discovered += 1
        self.readers[link.broker.pk] = selectors.state_readers_of_broker(broker_id=link.broker.pk)
        link.follow(set(self.readers[link.broker.pk]))

    def _state(self, message: _Message) -> None:
        readers = self.readers.get(message.broker_id, {}).get(message.topic)
        if not readers:
            return
        self.counts.states += 1
        try:
            self.counts.readings += services.states_store(
                readers=readers, payload=message.payload, received_at=self._arrival_time()
            )
        except templates.UnsupportedTemplate as error:
            self.counts.unreadable += 1
            if (message.broker_id, str(error)) not in self._unreadable_logged:
                self._unreadable_logged.add((message.broker_id, str(error)))
                logger.warning(
                    "MQTT bridge: %s: value_template %r is not a form the bridge reads", message.topic, str(error)
                )
        except PayloadError as error:
            self.counts.failed += 1
            logger.warning("MQTT bridge: %s: %s", message.topic, error.as_json()["detail"])

    def _arrival_time(self) -> datetime:
        # Strictly increasing: two messages on a topic within one microsecond would
        # otherwise be one reading and a duplicate.
        now = timezone.now()
        if now <= self._last_now:
            now = self._last_now + ONE_MICROSECOND
        self._last_now = now
        return now
