"""Publish downlink messages to devices through the broker, from any server process.

One short connection per call (QoS 1, each PUBACK awaited): commands and attribute
changes are rare next to telemetry, and a web worker holds no MQTT connection between
requests. A broker that cannot be reached is logged and reported as False, never
raised: the change itself is stored, and persistent commands are sent again when the
device next subscribes.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence

import orjson
import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion

logger = logging.getLogger(__name__)


def mqtt_enabled() -> bool:
    return bool(settings.MQTT_HOST)


def payload_bytes(payload: object) -> bytes:
    return orjson.dumps(payload)


def downlink_publish(messages: Sequence[tuple[str, object]]) -> bool:
    """Publish (topic, JSON payload) pairs; True once the broker acknowledged them all."""
    if not messages or not mqtt_enabled():
        return False
    timeout = settings.MQTT_TIMEOUT.total_seconds()
    connected = threading.Event()
    refused: list[str] = []
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"iotsite-downlink-{uuid.uuid4().hex[:12]}", protocol=mqtt.MQTTv5
    )
    client.username_pw_set(settings.MQTT_USERNAME, settings.MQTT_PASSWORD)

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            refused.append(str(reason_code))
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(settings.MQTT_HOST, settings.MQTT_PORT, keepalive=30)
    except OSError as error:
        logger.error("MQTT downlink: cannot reach the broker: %s", error)
        return False
    client.loop_start()
    try:
        if not connected.wait(timeout) or refused:
            logger.error("MQTT downlink: the broker refused or did not answer (%s)", refused or "timeout")
            return False
        infos = [client.publish(topic, payload_bytes(payload), qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout)
            if not info.is_published():
                logger.error("MQTT downlink: no PUBACK in time")
                return False
        return True
    except (RuntimeError, ValueError) as error:
        logger.error("MQTT downlink: %s", error)
        return False
    finally:
        client.disconnect()
        client.loop_stop()
