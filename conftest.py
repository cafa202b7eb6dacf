"""Fixtures shared by every test: alice and bob, their API clients, a device."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from devices.services import device_create

PASSWORD = "correct-horse-battery"


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


@pytest.fixture(autouse=True)
def group_commit_writer_stopped():
    # A test that stored through the group commit writer leaves its thread and its
    # database connection behind; the test database could not be dropped.
    yield
    from telemetry.group_commit import writer_stop

    writer_stop()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password=PASSWORD)


@pytest.fixture
def anon_client():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


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
