"""Which device and what a topic is, as the MQTT worker reads them."""

import pytest

from devicecomm import topics
from devicecomm.mqtt import attributes_answer
from devicecomm.services import attributes_set

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("devices/7/attributes", topics.Uplink(7, "attributes", None)),
        ("devices/7/attributes/request/12", topics.Uplink(7, "attributes/request", "12")),
        ("devices/7/rpc/response/41", topics.Uplink(7, "rpc/response", "41")),
        ("devices/7/rpc/request/3", topics.Uplink(7, "rpc/request", "3")),
        ("devices/7/rpc/subscribed", topics.Uplink(7, "rpc/subscribed", None)),
        ("devices/7/attributes/request", None),
        ("devices/7/attributes/extra", None),
        ("devices/7/rpc/response/", None),
        ("devices/x/attributes", None),
        ("devices/7/down/rpc/request/3", None),
        ("devices/7/telemetry", None),
        ("v1/devices/me/attributes", None),
    ],
)
def test_uplink_topics(topic, expected):
    assert topics.uplink_of_topic(topic) == expected


def test_attribute_requests_take_thingsboards_forms(device):
    attributes_set(device=device, scope="client", attributes={"fw": "1", "ip": "10.0.0.2"})
    attributes_set(device=device, scope="shared", attributes={"interval": 5})
    assert attributes_answer(device=device, request={"clientKeys": "fw", "sharedKeys": "interval"}) == {
        "client": {"fw": "1"},
        "shared": {"interval": 5},
    }
    assert attributes_answer(device=device, request={"sharedKeys": ["interval", "missing"]}) == {
        "shared": {"interval": 5}
    }
    assert attributes_answer(device=device, request={}) == {
        "client": {"fw": "1", "ip": "10.0.0.2"},
        "shared": {"interval": 5},
    }
