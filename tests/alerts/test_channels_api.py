import pytest

from alerts.models import NotificationChannel

pytestmark = pytest.mark.django_db


def create(client, **body):
    return client.post("/api/notification-channels/", body, format="json")


def test_an_email_channel_is_created(api_client):
    response = create(api_client, kind="email", address="alice@example.com", name="Me")
    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["address"]) == ("email", "alice@example.com")


def test_a_webhook_gets_a_secret_when_none_is_given(api_client):
    response = create(api_client, kind="webhook", url="https://hooks.example.com/x")
    assert response.status_code == 201, response.json()
    assert len(response.json()["secret"]) >= 32


def test_a_webhook_keeps_the_secret_it_is_given(api_client):
    response = create(api_client, kind="webhook", url="http://127.0.0.1:9000/x", secret="mine")
    assert response.json()["secret"] == "mine"


def test_a_channel_is_patched_listed_and_deleted(api_client):
    channel = create(api_client, kind="email", address="a@example.com").json()
    response = api_client.patch(
        f"/api/notification-channels/{channel['id']}/", {"address": "b@example.com"}, format="json"
    )
    assert response.json()["address"] == "b@example.com"
    assert [c["id"] for c in api_client.get("/api/notification-channels/").json()["results"]] == [channel["id"]]
    assert api_client.delete(f"/api/notification-channels/{channel['id']}/").status_code == 204
    assert not NotificationChannel.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "sms", "address": "a@example.com"}, "kind"),
        ({"kind": "email"}, "address"),
        ({"kind": "email", "address": "not-an-address"}, "address"),
        ({"kind": "webhook"}, "url"),
        ({"kind": "webhook", "url": "ftp://example.com/x"}, "url"),
        ({"kind": "webhook", "url": "javascript:alert(1)"}, "url"),
        ({"kind": "webhook", "url": "not a url"}, "url"),
    ],
)
def test_bad_channels_are_refused_naming_the_field(api_client, body, field):
    response = create(api_client, **body)
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_a_channel_cannot_change_kind(api_client):
    channel = create(api_client, kind="email", address="a@example.com").json()
    response = api_client.patch(f"/api/notification-channels/{channel['id']}/", {"kind": "webhook"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()
