"""Home Assistant discovery payloads (recorded from Zigbee2MQTT and Tasmota in their
documented form) and value_template forms, through the bridge's services."""

import json
from pathlib import Path

import orjson
import pytest
from django.utils import timezone

from devices.models import Device
from protocols.bridge import discovery, selectors, services, templates
from protocols.models import BridgedEntity
from telemetry.models import Sensor
from tests.telemetry.helpers import stored

RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text())


@pytest.mark.parametrize(
    "template, payload, expected",
    [
        ("", b"21.5", "21.5"),
        ("{{ value }}", b"21.5", "21.5"),
        ("{{value}}", b"ON", "ON"),
        ("{{ value | float }}", b"21.5", 21.5),
        ("{{ value | float(0) }}", b"oops", 0),
        ("{{ value_json.temperature }}", b'{"temperature": 21.73}', 21.73),
        ("{{ value_json['ENERGY']['Power'] }}", b'{"ENERGY": {"Power": 45}}', 45),
        ('{{ value_json["a b"].c }}', b'{"a b": {"c": 1}}', 1),
        ("{{ value_json.list[1] }}", b'{"list": [1, 2]}', 2),
        ("{{ value_json.temperature | round(1) }}", b'{"temperature": 21.73}', 21.7),
        ("{{ value_json.temperature | float | round(0) }}", b'{"temperature": "21.73"}', 22.0),
        ("{{ value_json.occupancy }}", b'{"occupancy": true}', True),
        ("{{ value_json.state | lower }}", b'{"state": "ON"}', "on"),
        ("{{- value_json.x -}}", b'{"x": 3}', 3),
        ("{{ value_json.x | is_defined }}", b'{"x": 3}', 3),
    ],
)
def test_value_template_forms(template, payload, expected):
    assert templates.render(template, payload) == expected


@pytest.mark.parametrize(
    "template, payload",
    [
        ("{{ value_json.missing }}", b'{"x": 1}'),
        ("{{ value_json.x.y }}", b'{"x": 1}'),
        ("{{ value_json.x }}", b"not json"),
        ("{{ value_json.list[5] }}", b'{"list": []}'),
        ("{{ value | float }}", b"unavailable"),
    ],
)
def test_a_template_naming_what_the_message_lacks_is_undefined(template, payload):
    with pytest.raises(templates.Undefined):
        templates.render(template, payload)


@pytest.mark.parametrize(
    "template",
    [
        "{{ value_json.x * 10 }}",
        "{% if value == 'on' %}1{% endif %}",
        "{{ value_json.x | multiply(2) }}",
        "prefix {{ value }}",
        "{{ states('sensor.x') }}",
    ],
)
def test_other_templates_are_unsupported(template):
    with pytest.raises(templates.UnsupportedTemplate):
        templates.render(template, b'{"x": 1}')


def test_zigbee2mqtt_discovery_reads_into_entities():
    messages = recorded("zigbee2mqtt.json")["discovery"]
    entities = []
    for message in messages:
        where = discovery.parse_topic(message["topic"], prefix="homeassistant")
        if where.component in discovery.COMPONENTS:
            entities.append(discovery.parse_config(where, orjson.dumps(message["payload"])))

    assert [(e.device_name, e.sensor_key, e.unit) for e in entities] == [
        ("Living room climate", "temperature", "°C"),
        ("Living room climate", "humidity", "%"),
        ("Living room climate", "battery", "%"),
        ("Living room climate", "linkquality", "lqi"),
        ("Hall motion", "occupancy", ""),
        ("Hall motion", "illuminance_lux", "lx"),
    ]
    occupancy = entities[4]
    assert (occupancy.component, occupancy.payload_on, occupancy.payload_off) == ("binary_sensor", "True", "False")
    assert occupancy.device_identifier == "zigbee2mqtt_0x00158d00045b2740"


def test_tasmota_abbreviations_and_base_topic_are_expanded():
    messages = recorded("tasmota.json")["discovery"]
    entities = [
        discovery.parse_config(discovery.parse_topic(m["topic"], prefix="homeassistant"), orjson.dumps(m["payload"]))
        for m in messages
    ]

    assert [(e.device_identifier, e.sensor_key, e.state_topic) for e in entities] == [
        ("35EBF6", "ENERGY_Power", "tele/EZPlug_35EBF6/SENSOR"),
        ("35EBF6", "ENERGY_Total", "tele/EZPlug_35EBF6/SENSOR"),
        ("35EBF6", "ENERGY_TotalStartTime", "tele/EZPlug_35EBF6/SENSOR"),
        ("35EBF6", "status", "tele/EZPlug_35EBF6/HASS_STATE"),
        ("35EBF6", "BTN_1", "stat/EZPlug_35EBF6/BUTTON1"),
    ]
    assert entities[0].value_template == "{{value_json['ENERGY']['Power']}}"
    assert entities[3].device_name == "3DPrinter"


@pytest.mark.parametrize(
    "topic",
    [
        "homeassistant/sensor/config",
        "homeassistant/sensor/a/b/c/config",
        "other/sensor/a/config",
        "homeassistant/sensor/a/state",
    ],
)
def test_topics_that_are_not_discovery(topic):
    assert discovery.parse_topic(topic, prefix="homeassistant") is None


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1]",
        b'{"name": "x"}',
        b'{"state_topic": ""}',
        b'{"state_topic": "a/+/b"}',
        b'{"state_topic": 5}',
        b'{"state_topic": "' + b"t" * 600 + b'"}',
    ],
)
def test_a_discovery_payload_the_bridge_cannot_use(payload):
    where = discovery.parse_topic("homeassistant/sensor/dev/temp/config", prefix="homeassistant")
    with pytest.raises(discovery.DiscoveryError):
        discovery.parse_config(where, payload)


@pytest.fixture
def broker(user):
    return services.broker_create(
        owner=user, name="Home", host="127.0.0.1", port=1883, username="ha", password="s3cret"
    )


def replay(broker, name: str) -> int:
    """Every discovery message then every state message of a recording, as the worker
    handles them; the number of readings stored."""
    recording = recorded(name)
    for message in recording["discovery"]:
        where = discovery.parse_topic(message["topic"], prefix=broker.discovery_prefix)
        if where.component in discovery.COMPONENTS:
            entity = discovery.parse_config(where, orjson.dumps(message["payload"]))
            services.entity_discovered(broker=broker, discovery_topic=message["topic"], entity=entity)
    readers = selectors.state_readers_of_broker(broker_id=broker.pk)
    count = 0
    for n, message in enumerate(recording["states"]):
        received_at = timezone.now() + timezone.timedelta(microseconds=n)
        count += services.states_store(
            readers=readers.get(message["topic"], []), payload=orjson.dumps(message["payload"]), received_at=received_at
        )
    return count


@pytest.mark.django_db
def test_zigbee2mqtt_devices_and_readings(broker, user):
    assert replay(broker, "zigbee2mqtt.json") == 4 + 2 + 2

    climate = Device.objects.get(owner=user, name="Living room climate")
    assert [(key, value) for key, _, value in stored(climate)] == [
        ("battery", 97.0),
        ("humidity", 41.61),
        ("linkquality", 126.0),
        ("temperature", 21.73),
    ]
    assert Sensor.objects.get(device=climate, key="temperature").unit == "°C"
    motion = Device.objects.get(owner=user, name="Hall motion")
    assert [(key, value) for key, _, value in stored(motion)] == [
        ("illuminance_lux", 381.0),
        ("illuminance_lux", 12.0),
        ("occupancy", 1.0),
        ("occupancy", 0.0),
    ]
    assert not Device.objects.filter(name="Plug").exists()  # a switch is not bridged


@pytest.mark.django_db
def test_tasmota_devices_and_readings(broker, user):
    # Power, Total and RSSI ("74", a string) are numbers; TotalStartTime is a date; the button is ON.
    assert replay(broker, "tasmota.json") == 4

    # Named by the first message (an entity's name), renamed by the one that names the device.
    plug = Device.objects.get(owner=user, name="3DPrinter")
    assert [(key, value) for key, _, value in stored(plug)] == [
        ("BTN_1", 1.0),
        ("ENERGY_Power", 45.0),
        ("ENERGY_Total", 12.345),
        ("status", 74.0),
    ]
    assert Sensor.objects.get(device=plug, key="ENERGY_Total").unit == "kWh"


@pytest.mark.django_db
def test_rediscovery_updates_the_entity_and_an_empty_payload_removes_it(broker):
    where = discovery.parse_topic("homeassistant/sensor/dev1/temp/config", prefix="homeassistant")
    first = discovery.parse_config(where, b'{"state_topic": "a/1", "device": {"identifiers": "dev1", "name": "D"}}')
    second = discovery.parse_config(where, b'{"state_topic": "a/2", "device": {"identifiers": "dev1", "name": "D"}}')
    services.entity_discovered(broker=broker, discovery_topic="homeassistant/sensor/dev1/temp/config", entity=first)
    services.entity_discovered(broker=broker, discovery_topic="homeassistant/sensor/dev1/temp/config", entity=second)

    assert list(BridgedEntity.objects.values_list("state_topic", flat=True)) == ["a/2"]
    assert Device.objects.filter(name="D").count() == 1

    services.entity_removed(broker=broker, discovery_topic="homeassistant/sensor/dev1/temp/config")
    assert not BridgedEntity.objects.exists()
    assert Device.objects.filter(name="D").exists()  # the device and its readings stay


@pytest.mark.django_db
def test_a_discovered_name_that_clashes_gets_a_suffix(broker, user, device):
    where = discovery.parse_topic("homeassistant/sensor/x/t/config", prefix="homeassistant")
    entity = discovery.parse_config(where, b'{"state_topic": "s", "device": {"identifiers": ["x"], "name": "boiler"}}')
    services.entity_discovered(broker=broker, discovery_topic="homeassistant/sensor/x/t/config", entity=entity)
    assert Device.objects.filter(owner=user, name="boiler (2)").exists()


@pytest.mark.django_db
def test_the_password_is_stored_encrypted(broker):
    broker.refresh_from_db()
    assert "s3cret" not in broker.password_ciphertext
    assert services.broker_password(broker=broker) == "s3cret"
    services.broker_update(broker=broker, password=None, name="Home 2")
    assert services.broker_password(broker=broker) == "s3cret"
    services.broker_update(broker=broker, password="")
    assert services.broker_password(broker=broker) == ""


@pytest.mark.django_db
def test_a_device_the_owner_renamed_keeps_its_name(broker, user):
    where = discovery.parse_topic("homeassistant/sensor/x/t/config", prefix="homeassistant")
    first = discovery.parse_config(
        where, b'{"name": "Plug power", "state_topic": "s", "device": {"identifiers": ["x"]}}'
    )
    named = discovery.parse_config(where, b'{"state_topic": "s", "device": {"identifiers": ["x"], "name": "Plug"}}')
    services.entity_discovered(broker=broker, discovery_topic="homeassistant/sensor/x/t/config", entity=first)
    device = Device.objects.get(owner=user, name="Plug power")
    device.name = "Printer plug"
    device.save()

    services.entity_discovered(broker=broker, discovery_topic="homeassistant/sensor/x/t/config", entity=named)

    device.refresh_from_db()
    assert device.name == "Printer plug"


def test_esphome_style_discovery_with_a_base_topic_at_the_start():
    where = discovery.parse_topic(
        "homeassistant/sensor/livingroom/livingroom_temperature/config", prefix="homeassistant"
    )
    payload = (
        b'{"dev_cla":"temperature","unit_of_meas":"\xc2\xb0C","stat_cla":"measurement","name":"Temperature",'
        b'"stat_t":"~/sensor/temperature/state","avty_t":"~/status","uniq_id":"ESPsensortemperature",'
        b'"dev":{"ids":"a4cf12b3c4d5","name":"livingroom","sw":"esphome v2023.12.5","mdl":"esp32dev","mf":"espressif"},'
        b'"~":"livingroom"}'
    )
    entity = discovery.parse_config(where, payload)
    assert (entity.device_identifier, entity.device_name, entity.sensor_key) == (
        "a4cf12b3c4d5",
        "livingroom",
        "livingroom_temperature",
    )
    assert entity.state_topic == "livingroom/sensor/temperature/state"
    assert entity.unit == "\u00b0C"
    assert entity.value_template == ""


@pytest.mark.django_db
def test_a_message_that_breaks_a_service_does_not_stop_the_worker(broker, monkeypatch, caplog):
    from protocols.bridge import worker as worker_module

    bridge = worker_module.Bridge()
    link = worker_module.BrokerLink(broker=broker, inbox=bridge.inbox)
    bridge.links[broker.pk] = link

    def broken(**kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(services, "entity_discovered", broken)
    message = worker_module._Message(broker.pk, "homeassistant/sensor/x/t/config", b'{"state_topic": "s"}')
    bridge.handle(message)

    assert bridge.counts.failed == 1
    assert "boom" in caplog.text
