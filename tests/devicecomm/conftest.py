import pytest


@pytest.fixture(autouse=True)
def quick_long_polls(settings):
    # Long-polls look at the database often and give up soon: tests wait for little.
    settings.DEVICE_LONG_POLL_CHECK_S = 0.05
    settings.DEVICE_LONG_POLL_MAX_S = 5
    settings.MQTT_HOST = ""  # no broker unless a test starts one
