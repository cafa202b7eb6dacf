"""Device communication over MQTT: the worker behind `manage.py mqtt_devicecomm`.

It takes what devices publish besides telemetry (topics in devicecomm/topics.py; the
iotsite_me broker plugin turns ThingsBoard's `v1/devices/me/...` into these, so both
kinds of device arrive here alike) and answers on the device's downlink:

    devices/{id}/attributes              client attributes reported → stored
    devices/{id}/attributes/request/{n}  → devices/{id}/down/attributes/response/{n}
    devices/{id}/rpc/response/{n}        the answer to command n → stored
    devices/{id}/rpc/request/{n}         client-side RPC → devices/{id}/down/rpc/response/{n}
    devices/{id}/rpc/subscribed          (from the plugin) → open persistent commands sent again

Workers share the subscriptions (`$share/{MQTT_SHARE_GROUP}-devicecomm/...`) under a
persistent session, and acknowledge a message only once handled: a worker that dies
mid-message gets it again (the handlers are idempotent, except that a command answered
twice keeps its first answer). A message from an unknown or revoked device, or a bad
payload, is logged and acknowledged.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from rest_framework.exceptions import APIException

from devicecomm import services, topics
from devicecomm.models import Attribute
from devicecomm.selectors import attribute_values
from devices.models import Device
from devices.selectors import devices_with_token_by_id

logger = logging.getLogger(__name__)


class WorkerStopped(Exception):
    pass


def _keys(value: Any) -> list[str] | None:
    """ThingsBoard sends "a,b" (its SDKs) and sometimes a list."""
    if value is None:
        return None
    return services.keys_validate(keys=value)


def attributes_answer(*, device: Device, request: Any) -> dict[str, Any]:
    """{"client": {...}, "shared": {...}} for {"clientKeys": "a,b", "sharedKeys": "c"};
    without either key list, every client and shared attribute."""
    if not isinstance(request, dict):
        request = {}
    client_keys, shared_keys = _keys(request.get("clientKeys")), _keys(request.get("sharedKeys"))
    answer: dict[str, Any] = {}
    if client_keys is not None or shared_keys is None:
        answer["client"] = attribute_values(device=device, scope=Attribute.CLIENT, keys=client_keys)
    if shared_keys is not None or client_keys is None:
        answer["shared"] = attribute_values(device=device, scope=Attribute.SHARED, keys=shared_keys)
    return answer


class DeviceCommWorker:
    """A paho client receiving into a queue, and a loop handling one message at a time."""

    def __init__(self, *, client_id: str):
        self.client_id = client_id
        self.counts: Counter[str] = Counter()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._connect_error: str | None = None
        group = f"{settings.MQTT_SHARE_GROUP}-devicecomm"
        self._filters = [f"$share/{group}/{topic_filter}" for topic_filter in topics.UPLINK_FILTERS]
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        self._client.username_pw_set(settings.MQTT_USERNAME, settings.MQTT_PASSWORD)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = lambda client, userdata, message: self._inbox.put(message)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._connect_error = f"the broker refused the connection: {reason_code}"
            self.connected.set()
            return
        client.subscribe([(topic_filter, SubscribeOptions(qos=1)) for topic_filter in self._filters])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            self._connect_error = f"the broker refused the subscription: {reason_codes}"
        else:
            logger.info("MQTT: %s subscribed to %s", self.client_id, ", ".join(self._filters))
        self.connected.set()

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = int(settings.MQTT_SESSION_EXPIRY.total_seconds())
        try:
            self._client.connect(
                settings.MQTT_HOST, settings.MQTT_PORT, keepalive=30, clean_start=False, properties=properties
            )
        except OSError as error:
            raise WorkerStopped(f"cannot reach {settings.MQTT_HOST}:{settings.MQTT_PORT}: {error}") from None
        self._client.loop_start()
        if not self.connected.wait(settings.MQTT_TIMEOUT.total_seconds()) or self._connect_error:
            self._client.loop_stop()
            raise WorkerStopped(self._connect_error or "the broker did not answer in time")

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        self.start()
        try:
            while not self._stop.is_set():
                try:
                    message = self._inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                close_old_connections()
                try:
                    self.handle(message)
                except (OperationalError, InterfaceError):
                    raise  # the database is away: unacknowledged, the broker sends it again
                self._client.ack(message.mid, message.qos)
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            logger.info("MQTT device communication stopped: %s", dict(self.counts))

    def handle(self, message: mqtt.MQTTMessage) -> None:
        uplink = topics.uplink_of_topic(message.topic)
        if uplink is None:
            self.counts["unknown_topic"] += 1
            return
        device = devices_with_token_by_id(device_ids=[uplink.device_id]).get(uplink.device_id)
        if device is None:
            self.counts["unknown_device"] += 1
            logger.warning("MQTT: %s dropped: no such device, or its token was revoked", message.topic)
            return
        try:
            payload = orjson.loads(message.payload) if message.payload else None
            self._dispatch(device, uplink, payload)
        except (orjson.JSONDecodeError, APIException) as error:
            self.counts["bad_payload"] += 1
            detail = getattr(error, "detail", error)
            logger.warning("MQTT: bad message on %s: %s", message.topic, detail)
            if uplink.kind == topics.ATTRIBUTES_REQUEST and uplink.request_id is not None:
                self._answer(topics.attributes_response(device.pk, uplink.request_id), {"error": str(detail)})
            return
        self.counts[uplink.kind] += 1

    def _dispatch(self, device: Device, uplink: topics.Uplink, payload: Any) -> None:
        if uplink.kind == topics.ATTRIBUTES:
            services.attributes_set(device=device, scope=Attribute.CLIENT, attributes=payload)
        elif uplink.kind == topics.ATTRIBUTES_REQUEST:
            answer = attributes_answer(device=device, request=payload)
            self._answer(topics.attributes_response(device.pk, uplink.request_id or ""), answer)
        elif uplink.kind == topics.RPC_RESPONSE:
            services.command_reply(device=device, command_id=uplink.request_id, response=payload)
        elif uplink.kind == topics.RPC_REQUEST:
            call = payload if isinstance(payload, dict) else {}
            answer = services.client_rpc_answer(device=device, method=call.get("method"), params=call.get("params"))
            self._answer(topics.client_rpc_response(device.pk, uplink.request_id or ""), answer)
        elif uplink.kind == topics.RPC_SUBSCRIBED:
            services.commands_resend_persistent(device=device)

    def _answer(self, topic: str, payload: Any) -> None:
        self._client.publish(topic, orjson.dumps(payload), qos=1)
