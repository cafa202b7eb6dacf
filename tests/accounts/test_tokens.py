import pytest

from tests.support.users import PASSWORD

pytestmark = pytest.mark.django_db


def obtain(client, username, password):
    return client.post("/api/auth/token/", {"username": username, "password": password})


def test_it_issues_a_token_pair(anon_client, user):
    response = obtain(anon_client, "alice", PASSWORD)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_login_ignores_username_case(anon_client, user):
    assert obtain(anon_client, "Alice", PASSWORD).status_code == 200


def test_a_wrong_password_is_401_without_saying_which_part(anon_client, user):
    wrong_password = obtain(anon_client, "alice", "not-the-password")
    unknown_user = obtain(anon_client, "nobody", PASSWORD)
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()
    assert "password" not in str(wrong_password.json()).lower()


def test_refresh_rotates_and_blacklists_the_old_token(anon_client, user):
    refresh = obtain(anon_client, "alice", PASSWORD).json()["refresh"]
    rotated = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh})
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != refresh
    reused = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh})
    assert reused.status_code == 401


def test_logout_blacklists_the_refresh_token(anon_client, user):
    refresh = obtain(anon_client, "alice", PASSWORD).json()["refresh"]
    assert anon_client.post("/api/auth/logout/", {"refresh": refresh}).status_code == 204
    assert anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}).status_code == 401


@pytest.mark.parametrize("body", [{}, {"refresh": "garbage"}])
def test_logout_rejects_a_bad_refresh_token(anon_client, body):
    response = anon_client.post("/api/auth/logout/", body)
    assert response.status_code == 400
    assert "refresh" in response.json()


def test_me_needs_a_user(anon_client):
    assert anon_client.get("/api/auth/me/").status_code == 401


def test_me_describes_the_user(api_client):
    assert api_client.get("/api/auth/me/").json()["username"] == "alice"


def test_access_lifetime_is_a_setting(settings):
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() == 30 * 60
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds() == 24 * 3600
