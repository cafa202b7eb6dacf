"""A database that cannot answer (a failover under way) is a 503 with Retry-After, never a
500, and a batch refused that way stores nothing: the device's retry stores it once."""

from __future__ import annotations

import sys

import pytest
from django.db import InternalError, OperationalError
from django.test import Client, RequestFactory

from iotsite.exceptions import server_error
from iotsite.settings import database_from_url, database_urls
from telemetry import storage
from telemetry.models import Reading
from tests.telemetry.helpers import post

GONE = OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db
def test_a_batch_caught_in_a_failover_is_503_with_retry_after_and_its_retry_stores_it_once(
    device_client, device, monkeypatch
):
    body = [{"ts": 1_760_000_000_000 + n, "values": {"t": n}} for n in range(3)]
    store = storage.readings_store

    def failing_store(**kwargs):
        raise GONE

    monkeypatch.setattr(storage, "readings_store", failing_store)
    refused = post(device_client, body, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert refused.status_code == 503
    assert refused["Retry-After"] == "2"
    assert "not available" in refused.json()["detail"]
    assert Reading.objects.count() == 0
    monkeypatch.setattr(storage, "readings_store", store)
    assert post(device_client, body, HTTP_IDEMPOTENCY_KEY="batch-1").status_code == 201
    assert post(device_client, body, HTTP_IDEMPOTENCY_KEY="batch-1").status_code == 201
    assert Reading.objects.count() == 3


@pytest.mark.django_db
def test_the_history_api_answers_503_too(api_client, device, monkeypatch):
    from telemetry import selectors

    def failing(**kwargs):
        raise GONE

    monkeypatch.setattr(selectors, "sensors_of_device", failing)
    response = api_client.get(f"/api/devices/{device.pk}/readings/")
    assert (response.status_code, response["Retry-After"]) == (503, "2")


@pytest.mark.django_db
def test_a_page_answers_503_with_retry_after(user, monkeypatch, settings):
    settings.DB_RETRY_AFTER = 5
    from dashboard import views

    def failing(**kwargs):
        raise GONE

    monkeypatch.setattr(views, "device_cards_of_user", failing)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get("/")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response["Content-Type"].startswith("text/plain")


def test_a_database_error_outside_any_view_is_503_and_anything_else_stays_500():
    request = RequestFactory().get("/")
    try:
        raise InternalError("cannot execute INSERT in a read-only transaction")
    except InternalError:
        # Not a demoted primary (no SQLSTATE 25006 behind it): a plain 500.
        assert server_error(request).status_code == 500
    try:
        raise GONE
    except OperationalError:
        assert sys.exc_info()[1] is GONE
        response = server_error(request)
    assert response.status_code == 503 and response["Retry-After"]


def test_several_hosts_in_one_url_go_to_libpq_as_lists():
    config = database_from_url(
        "postgres://app:secret@db-a:5432,db-b:6432/iotsite?target_session_attrs=read-write", conn_max_age=0
    )
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db-a,db-b",
        "5432,6432",
        "iotsite",
        "app",
    )
    assert config["OPTIONS"] == {"target_session_attrs": "read-write"}
    assert database_from_url("postgres://app@db:5432/iotsite", conn_max_age=0)["HOST"] == "db"


def test_replica_urls_split_on_commas_between_urls_only():
    raw = "postgres://u@r1:5432/db, postgres://u@r2:5432,r3:5432/db?target_session_attrs=standby"
    assert database_urls(raw) == [
        "postgres://u@r1:5432/db",
        "postgres://u@r2:5432,r3:5432/db?target_session_attrs=standby",
    ]
    assert database_urls("") == []
