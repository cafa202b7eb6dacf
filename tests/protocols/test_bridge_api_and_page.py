"""/api/bridges/ and the dashboard's Home Assistant page: an owner's brokers only,
the password write-only and encrypted, bad addresses refused."""

import pytest

from protocols.bridge import services
from protocols.models import BridgeBroker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lan_opened(settings):
    # As an operator whose Home Assistant runs on 192.168.x opens it.
    settings.BRIDGE_ALLOWED_NETWORKS = ["192.168.0.0/16"]


def test_create_list_update_delete(api_client, user):
    created = api_client.post(
        "/api/bridges/",
        {"name": "Home", "host": "192.168.1.10", "username": "ha", "password": "s3cret", "tls": True},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert "password" not in body
    assert body["has_password"] is True
    assert (body["port"], body["discovery_prefix"], body["tls"]) == (1883, "homeassistant", True)
    broker = BridgeBroker.objects.get(pk=body["id"])
    assert "s3cret" not in broker.password_ciphertext
    assert services.broker_password(broker=broker) == "s3cret"

    assert [item["name"] for item in api_client.get("/api/bridges/").json()["results"]] == ["Home"]

    patched = api_client.patch(f"/api/bridges/{broker.pk}/", {"port": 8883}, format="json")
    assert patched.status_code == 200
    broker.refresh_from_db()
    assert broker.port == 8883
    assert services.broker_password(broker=broker) == "s3cret"  # untouched without a password field

    assert api_client.delete(f"/api/bridges/{broker.pk}/").status_code == 204
    assert not BridgeBroker.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("host", "mqtt://broker"),
        ("host", "broker:1883"),
        ("host", ""),
        ("host", "127.0.0.1"),
        ("host", "localhost"),
        ("host", "10.1.2.3"),  # a private network the operator did not open
        ("host", "169.254.169.254"),  # cloud metadata
        ("host", "::ffff:127.0.0.1"),
        ("host", "0.0.0.0"),
        ("port", 0),
        ("port", 70000),
        ("discovery_prefix", "home/#"),
        ("name", ""),
    ],
)
def test_bad_fields_are_refused(api_client, field, value):
    body = {"name": "Home", "host": "broker.lan", field: value}
    response = api_client.post("/api/bridges/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not BridgeBroker.objects.exists()


def test_another_users_broker_is_a_404(api_client, other_user):
    theirs = services.broker_create(owner=other_user, name="Theirs", host="10.0.0.2")
    assert api_client.get(f"/api/bridges/{theirs.pk}/").status_code == 404
    assert api_client.patch(f"/api/bridges/{theirs.pk}/", {"port": 1}, format="json").status_code == 404
    assert api_client.delete(f"/api/bridges/{theirs.pk}/").status_code == 404
    assert api_client.get("/api/bridges/").json()["results"] == []


def test_devices_cannot_use_the_api(device_client):
    assert device_client.get("/api/bridges/").status_code == 401


def test_the_page_adds_a_broker(client, user):
    client.force_login(user)
    response = client.post(
        "/bridges/",
        {
            "name": "Home",
            "host": "192.168.1.10",
            "port": "1883",
            "tls": "false",
            "username": "ha",
            "password": "broker-Secret-9q",
            "discovery_prefix": "homeassistant",
        },
    )
    assert response.status_code == 302
    broker = BridgeBroker.objects.get(owner=user)
    assert (broker.host, broker.tls, services.broker_password(broker=broker)) == (
        "192.168.1.10",
        False,
        "broker-Secret-9q",
    )
    page = client.get("/bridges/")
    assert b"192.168.1.10:1883" in page.content
    # A password long enough not to turn up by chance in a CSRF token.
    assert b"broker-Secret-9q" not in page.content


def test_the_page_refuses_a_bad_host(client, user):
    client.force_login(user)
    response = client.post(
        "/bridges/",
        {"name": "x", "host": "http://x", "port": "1883", "tls": "false", "discovery_prefix": "homeassistant"},
    )
    assert response.status_code == 400
    assert not BridgeBroker.objects.exists()


def test_the_page_removes_only_my_broker(client, user, other_user):
    theirs = services.broker_create(owner=other_user, name="Theirs", host="10.0.0.2")
    client.force_login(user)
    assert client.post(f"/bridges/{theirs.pk}/delete/").status_code == 404
    mine = services.broker_create(owner=user, name="Mine", host="10.0.0.3")
    assert client.post(f"/bridges/{mine.pk}/delete/").status_code == 302
    assert list(BridgeBroker.objects.values_list("name", flat=True)) == ["Theirs"]


def test_the_page_needs_a_login(client):
    assert client.get("/bridges/").status_code == 302


@pytest.fixture
def fake_dns(monkeypatch):
    from protocols.bridge import addresses

    answers: dict[str, list[str]] = {}
    monkeypatch.setattr(addresses, "resolve", lambda host, port: answers[host])
    return answers


@pytest.mark.parametrize(
    "answer, allowed",
    [(["8.8.8.8"], True), (["192.168.1.10"], True), (["127.0.0.1"], False), (["8.8.8.8", "10.0.0.1"], False)],
)
def test_a_name_is_judged_by_every_address_it_resolves_to(api_client, fake_dns, answer, allowed):
    fake_dns["mqtt.example.org"] = answer
    response = api_client.post("/api/bridges/", {"name": "Home", "host": "mqtt.example.org"}, format="json")
    assert response.status_code == (201 if allowed else 400)


def test_a_name_that_does_not_resolve_yet_is_accepted(api_client):
    response = api_client.post("/api/bridges/", {"name": "Home", "host": "broker.invalid"}, format="json")
    assert response.status_code == 201


def test_a_lan_address_needs_the_operator_to_open_its_network(api_client, settings):
    settings.BRIDGE_ALLOWED_NETWORKS = []
    response = api_client.post("/api/bridges/", {"name": "Home", "host": "192.168.1.10"}, format="json")
    assert response.status_code == 400
    assert "BRIDGE_ALLOWED_NETWORKS" in response.json()["host"][0]
