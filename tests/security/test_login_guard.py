import pytest
from django.test import Client

from tests.support.users import PASSWORD


@pytest.fixture
def guard(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    return settings


def token(client, username, password, address="10.0.0.1"):
    return client.post("/api/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
class TestLoginGuard:
    def test_a_username_is_locked_out_after_repeated_wrong_passwords(self, guard, anon_client, user):
        codes = [token(anon_client, "alice", "wrong").status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        response = token(anon_client, "alice", "wrong")
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0

    def test_a_locked_out_attempt_does_not_say_whether_the_password_was_right(self, guard, anon_client, user):
        for _ in range(3):
            token(anon_client, "alice", "wrong")
        right, wrong = token(anon_client, "alice", PASSWORD), token(anon_client, "alice", "wrong")
        assert right.status_code == wrong.status_code == 429
        assert right.json() == wrong.json()
        assert "access" not in right.json()

    def test_the_username_lockout_holds_from_another_address_and_in_any_letter_case(self, guard, anon_client, user):
        for _ in range(3):
            token(anon_client, "alice", "wrong")
        assert token(anon_client, "ALICE", PASSWORD, address="10.9.9.9").status_code == 429

    def test_other_users_can_still_log_in_from_elsewhere(self, guard, anon_client, user, other_user):
        for _ in range(3):
            token(anon_client, "alice", "wrong")
        assert token(anon_client, "bob", PASSWORD, address="10.0.0.2").status_code == 200

    def test_an_address_guessing_many_usernames_is_locked_out(self, guard, anon_client, other_user):
        for n in range(5):
            token(anon_client, f"nobody{n}", "wrong")
        assert token(anon_client, "bob", PASSWORD).status_code == 429
        assert token(anon_client, "bob", PASSWORD, address="10.0.0.2").status_code == 200

    def test_each_further_failure_doubles_the_lockout(self, guard, anon_client, user, settings):
        from accounts.login_guard import login_failure_record, login_retry_after

        for _ in range(3):
            login_failure_record(username="alice", address=None)
        first = login_retry_after(username="alice", address=None)
        login_failure_record(username="alice", address=None)
        second = login_retry_after(username="alice", address=None)
        assert first == settings.LOGIN_LOCKOUT.total_seconds()
        assert second == 2 * first

    def test_the_lockout_never_exceeds_its_maximum(self, guard, settings):
        from accounts.login_guard import login_failure_record, login_retry_after

        for _ in range(40):
            login_failure_record(username="alice", address=None)
        assert login_retry_after(username="alice", address=None) == settings.LOGIN_LOCKOUT_MAX.total_seconds()

    def test_a_successful_log_in_clears_the_usernames_failures(self, guard, anon_client, user):
        token(anon_client, "alice", "wrong")
        token(anon_client, "alice", "wrong")
        assert token(anon_client, "alice", PASSWORD, address="10.0.0.3").status_code == 200
        codes = [token(anon_client, "alice", "wrong", address="10.0.0.3").status_code for _ in range(2)]
        assert codes == [401, 401]

    def test_the_lockout_ends_when_its_time_is_up(self, guard, anon_client, user, monkeypatch):
        import time

        from accounts import login_guard

        for _ in range(3):
            token(anon_client, "alice", "wrong")
        later = time.time() + 61
        monkeypatch.setattr(login_guard.time, "time", lambda: later)
        assert token(anon_client, "alice", PASSWORD).status_code == 200

    def test_the_browser_log_in_is_guarded_too(self, guard, user):
        browser = Client()
        for _ in range(3):
            browser.post("/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.7")
        response = browser.post("/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert b"Too many failed log-in attempts" in response.content
        assert "_auth_user_id" not in browser.session

    def test_a_malformed_json_log_in_is_still_answered_by_the_view(self, guard, anon_client):
        response = anon_client.post("/api/auth/token/", b"{not json", content_type="application/json")
        assert response.status_code == 400
