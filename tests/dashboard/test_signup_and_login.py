import pytest
from django.contrib.auth import get_user_model

from tests.support.users import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_creates_an_account_and_logs_in(client):
    response = client.post("/signup/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert get_user_model().objects.filter(username="carol").exists()


def test_it_says_plainly_that_a_username_is_taken_in_any_case(client, user):
    response = client.post("/signup/", {"username": "ALICE", "password": PASSWORD})
    assert response.status_code == 400
    assert response.context["signup_form"].errors["username"] == [
        "The username “ALICE” is taken. Choose another, or log in if it is yours."
    ]


def test_it_refuses_a_weak_password_naming_the_rule(client):
    response = client.post("/signup/", {"username": "carol", "password": "12345678"})
    assert response.status_code == 400
    errors = response.context["signup_form"].errors["password"]
    assert "This password is entirely numeric." in errors
    assert not get_user_model().objects.filter(username="carol").exists()


def test_it_shows_the_password_rules(client):
    page = client.get("/login/").content.decode()
    assert "at least 8 characters" in page


def test_it_refuses_a_bad_username(client):
    response = client.post("/signup/", {"username": "no spaces", "password": PASSWORD})
    assert response.status_code == 400
    assert "username" in response.context["signup_form"].errors


def test_it_logs_in_and_follows_a_local_next(client, user):
    response = client.post("/login/", {"username": "Alice", "password": PASSWORD, "next": "/download/"})
    assert response.status_code == 302
    assert response["Location"] == "/download/"


def test_it_ignores_a_next_to_another_site(client, user):
    response = client.post("/login/", {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_it_refuses_a_wrong_password(client, user):
    response = client.post("/login/", {"username": "alice", "password": "wrong-password"})
    assert response.status_code == 400
    assert "do not match an account" in response.content.decode()


def test_logout_needs_a_post(client, user):
    client.force_login(user)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302
