import pytest

pytestmark = pytest.mark.django_db

URL = "/api/auth/register/"


def test_it_creates_an_account_and_returns_tokens(anon_client, django_user_model):
    response = anon_client.post(URL, {"username": "carol", "password": "a-long-passphrase", "email": "c@example.com"})
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "carol"
    assert django_user_model.objects.get(username="carol").check_password("a-long-passphrase")
    me = anon_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {response.json()['tokens']['access']}")
    assert me.json()["username"] == "carol"


def test_it_rejects_a_taken_username_in_any_case(anon_client, user):
    response = anon_client.post(URL, {"username": "ALICE", "password": "a-long-passphrase"})
    assert response.status_code == 400
    assert "already exists" in response.json()["username"][0]


def test_it_trims_the_username(anon_client, user):
    response = anon_client.post(URL, {"username": "  alice ", "password": "a-long-passphrase"})
    assert response.status_code == 400
    assert "username" in response.json()


@pytest.mark.parametrize("password", ["short", "password123", "12345678901"])
def test_it_applies_the_password_rules(anon_client, password):
    response = anon_client.post(URL, {"username": "dave", "password": password})
    assert response.status_code == 400
    assert response.json()["password"]


def test_it_rejects_a_password_like_the_username(anon_client):
    response = anon_client.post(URL, {"username": "margaret-hamilton", "password": "margaret-hamilton"})
    assert response.status_code == 400
    assert "password" in response.json()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": "a-long-passphrase"}, "username"),
        ({"username": "erin"}, "password"),
        ({"username": "has space", "password": "a-long-passphrase"}, "username"),
        ({"username": "x" * 151, "password": "a-long-passphrase"}, "username"),
        ({"username": "erin", "password": "a-long-passphrase", "email": "not-an-email"}, "email"),
    ],
)
def test_it_names_the_bad_field(anon_client, body, field):
    response = anon_client.post(URL, body)
    assert response.status_code == 400
    assert field in response.json()


def test_it_answers_malformed_json_with_400(anon_client):
    response = anon_client.post(URL, data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
