"""The log-in lockout holds however the body is written: it is enforced where the
password is checked, on the username being checked, and a guarded body the early
guard cannot read is refused, never waved through."""

import json

import pytest
from django.test import Client

from tests.support.users import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def locked_alice(settings, user):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 1000
    client = Client()
    for _ in range(3):
        client.post("/api/auth/token/", {"username": "alice", "password": "wrong"}, content_type="application/json")
    return user


def raw_token(body: bytes | str, content_type: str = "application/json", address: str = "10.1.1.1"):
    return Client().post("/api/auth/token/", body, content_type=content_type, REMOTE_ADDR=address)


def test_a_lone_surrogate_in_another_field_is_refused(locked_alice):
    body = b'{"username": "alice", "password": "%s", "pad": "\\ud800"}' % PASSWORD.encode()
    response = raw_token(body)
    assert response.status_code == 400
    assert "access" not in response.json()


def test_the_same_json_in_utf_16_is_refused(locked_alice):
    # The test client encodes a str body in the charset the content type names.
    body = json.dumps({"username": "alice", "password": PASSWORD})
    response = raw_token(body, content_type="application/json; charset=utf-16")
    assert response.status_code == 400
    assert "access" not in response.json()


def test_an_all_digit_username_sent_as_a_number_is_locked_out(settings, django_user_model):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    django_user_model.objects.create_user(username="12345", password=PASSWORD)
    for _ in range(3):
        raw_token(b'{"username": 12345, "password": "wrong"}')
    response = raw_token(b'{"username": 12345, "password": "%s"}' % PASSWORD.encode(), address="10.2.2.2")
    assert response.status_code == 429
    assert "access" not in response.json()


@pytest.fixture
def without_early_guard(settings):
    # The middleware no longer answers first for these paths: what refuses is the check
    # of the password itself.
    settings.LOGIN_GUARD_PATHS = []


def test_the_token_endpoint_enforces_the_lockout_itself(locked_alice, without_early_guard):
    response = Client().post(
        "/api/auth/token/", {"username": "alice", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "access" not in response.json()


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/api-auth/login/"])
def test_the_log_in_forms_enforce_the_lockout_themselves(locked_alice, without_early_guard, path):
    browser = Client()
    response = browser.post(path, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in browser.session
