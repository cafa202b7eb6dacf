import pytest


@pytest.fixture
def tight_rates(settings):
    rates = {"device": "3/min", "user": "3/min", "anon": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # DRF reads its settings once; the reload signal of pytest-django's settings fixture
    # refreshes api_settings, but the throttle classes keep their class-level copy.
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    api_settings.reload()
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    yield rates
    SimpleRateThrottle.THROTTLE_RATES = original
    api_settings.reload()


@pytest.mark.django_db
class TestThrottles:
    def test_a_device_past_its_rate_gets_429_with_retry_after(self, tight_rates, device_client):
        codes = [device_client.post("/api/telemetry/", {"value": n}, format="json").status_code for n in range(4)]
        assert codes == [201, 201, 201, 429]
        response = device_client.get("/api/device/")
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert "detail" in response.json()

    def test_the_device_rate_is_per_device(self, tight_rates, device_client, user):
        from rest_framework.test import APIClient

        from devices.services import device_create

        for _ in range(3):
            device_client.get("/api/device/")
        assert device_client.get("/api/device/").status_code == 429
        _other, token = device_create(owner=user, name="Second", type="generic")
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Device {token}")
        assert other.get("/api/device/").status_code == 200

    def test_a_rotated_token_does_not_reset_the_device_rate(self, tight_rates, device, device_client):
        from rest_framework.test import APIClient

        from devices.services import device_token_rotate

        for _ in range(3):
            device_client.get("/api/device/")
        rotated = APIClient()
        rotated.credentials(HTTP_AUTHORIZATION=f"Device {device_token_rotate(device=device)}")
        assert rotated.get("/api/device/").status_code == 429

    def test_a_user_past_their_rate_gets_429_and_another_user_does_not(self, tight_rates, api_client, other_client):
        codes = [api_client.get("/api/devices/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert "Retry-After" in api_client.get("/api/auth/me/")
        assert other_client.get("/api/devices/").status_code == 200

    def test_anonymous_callers_are_limited_per_address(self, tight_rates, anon_client):
        body = {"refresh": "not-a-token"}
        codes = [anon_client.post("/api/auth/logout/", body, REMOTE_ADDR="10.0.0.1").status_code for _ in range(4)]
        assert codes == [400, 400, 400, 429]
        assert anon_client.post("/api/auth/logout/", body, REMOTE_ADDR="10.0.0.2").status_code == 400

    def test_the_counts_live_in_the_shared_cache(self, tight_rates, device, device_client):
        from django.core.cache import cache

        device_client.get("/api/device/")
        assert len(cache.get(f"throttle_device_{device.pk}")) == 1


@pytest.mark.django_db
def test_a_token_in_the_path_counts_against_its_own_device(tight_rates, device_token, user):
    from rest_framework.test import APIClient

    from devices.services import device_create

    client = APIClient()
    codes = [
        client.post(f"/api/v1/{device_token}/telemetry", {"value": n}, format="json").status_code for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    # Another device from the same address still has its whole rate: not an anonymous limit.
    _other, other_token = device_create(owner=user, name="Second", type="generic")
    assert client.post(f"/api/v1/{other_token}/telemetry", {"value": 1}, format="json").status_code == 200


@pytest.fixture
def tight_form_rate(tight_rates):
    tight_rates["forms"] = "5/min"
    return tight_rates


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/signup/", "/login/"])
def test_the_signup_and_login_pages_are_throttled_per_address(tight_form_rate, path):
    from django.test import Client

    browser = Client()
    codes = [
        browser.post(path, {"username": f"u{n}", "password": "x"}, REMOTE_ADDR="10.0.0.9").status_code for n in range(6)
    ]
    assert codes == [400] * 5 + [429]
    refused = browser.post(path, {"username": "u", "password": "x"}, REMOTE_ADDR="10.0.0.9")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert browser.post(path, {"username": "u", "password": "x"}, REMOTE_ADDR="10.0.0.10").status_code == 400
    assert browser.get("/login/", REMOTE_ADDR="10.0.0.9").status_code == 200  # the page itself still shows
