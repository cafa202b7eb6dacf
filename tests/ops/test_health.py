import pytest


@pytest.mark.django_db
class TestHealth:
    def test_healthz_says_the_process_is_up(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    def test_readyz_is_ok_when_the_database_answers_and_redis_is_not_configured(self, client, settings):
        settings.REDIS_URL = ""
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok", "redis": "not configured"}

    def test_readyz_checks_redis_when_it_is_configured(self, client, settings):
        settings.REDIS_URL = "redis://127.0.0.1:6379/15"
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"]["redis"] == "ok"

    def test_readyz_answers_503_naming_redis_when_redis_is_unreachable(self, client, settings):
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["failed"] == ["redis"]
        assert response.json()["checks"]["database"] == "ok"

    def test_readyz_answers_503_naming_the_database_when_it_fails(self, client, monkeypatch):
        from iotsite import health

        monkeypatch.setattr(health, "database_error", lambda: "OperationalError: connection refused")
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["failed"] == ["database"]
        assert response.json()["checks"]["database"] == "failed"

    def test_readyz_keeps_the_error_text_from_anonymous_callers(self, client, settings, caplog):
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["redis"] == "failed"
        assert "127.0.0.1" not in response.content.decode() and "Error" not in response.content.decode()
        assert any("readyz: redis: ConnectionError" in record.getMessage() for record in caplog.records)

    def test_readyz_gives_staff_the_error_text(self, client, monkeypatch, django_user_model):
        from iotsite import health

        monkeypatch.setattr(health, "database_error", lambda: "OperationalError: connection refused")
        client.force_login(django_user_model.objects.create_user("admin", password="x", is_staff=True))
        assert client.get("/readyz").json()["checks"]["database"] == "OperationalError: connection refused"

    def test_probes_are_not_redirected_to_https(self, client, settings):
        settings.SECURE_SSL_REDIRECT = True
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/auth/me/").status_code == 301
