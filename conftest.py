"""Fixtures shared by every test: alice and bob, their API clients, a device; and the
markers a test gets from the fixtures it uses."""

import pytest
from rest_framework.test import APIClient

from devices.services import device_create

# Used below; also still importable as `from conftest import PASSWORD` by older tests.
from tests.support.users import PASSWORD, client_for

# Markers (pytest.ini) a test gets from a fixture it uses, directly or through another
# fixture. Tests that start a process or a Chromium themselves are marked in their module.
FIXTURE_MARKERS = {
    # tests/e2e: the session's Chromium, behind the context, page and signed_in_page fixtures
    "browser": ("browser",),
    # tests/mqtt: a Mosquitto process per test, behind mqtt_settings, connect_device,
    # ingest_thread, ingest_process and the mqtt_device fixtures
    "broker": ("mqtt", "processes"),
    # tests/mqtt: `manage.py mqtt_ingest` processes
    "ingest_process": ("processes",),
    # tests/live: `manage.py migrate` for a database that uvicorn processes share, and uvicorn
    "server_database": ("processes",),
    "uvicorn_server_url": ("processes",),
    # tests/edge_reader: the stand-in telemetry server process
    "telemetry_server": ("processes",),
    "flaky_telemetry_server": ("processes",),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        markers = {marker for fixture in fixtures & FIXTURE_MARKERS.keys() for marker in FIXTURE_MARKERS[fixture]}
        for marker in sorted(markers):
            item.add_marker(marker)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    # Throttle and log-in failure counts live in the cache; each test starts at zero.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_sensor_id_cache():
    # Rolled-back test data reuses ids; the ingest cache must not outlive a test.
    from telemetry.services import sensor_ids_forget

    sensor_ids_forget()
    yield
    sensor_ids_forget()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password=PASSWORD)


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def api_client(user):
    return client_for(user)


@pytest.fixture
def other_client(other_user):
    return client_for(other_user)


@pytest.fixture
def device_and_token(user):
    return device_create(owner=user, name="Boiler", type="generic")


@pytest.fixture
def device(device_and_token):
    return device_and_token[0]


@pytest.fixture
def device_token(device_and_token):
    return device_and_token[1]


@pytest.fixture
def device_client(device_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device_token}")
    return client
