import pytest

ENDPOINTS = [
    ("/api/auth/register/", "anon"),
    ("/api/auth/token/", "anon"),
    ("/api/devices/", "user"),
    ("/api/telemetry/", "device"),
    ("/login/", "anon"),
    ("/admin/login/", "anon"),
]


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.MAX_UPLOAD_BYTES = 2000
    return settings


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "who"), ENDPOINTS)
def test_an_oversized_body_is_a_413_json_on_every_endpoint(
    small_limit, path, who, anon_client, api_client, device_client
):
    client = {"anon": anon_client, "user": api_client, "device": device_client}[who]
    body = b'{"name": "' + b"x" * 5000 + b'"}'
    response = client.generic("POST", path, body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "1000 bytes" in response.json()["detail"]


@pytest.mark.django_db
def test_a_body_within_the_limit_goes_through(small_limit, api_client):
    assert api_client.post("/api/devices/", {"name": "Small"}, format="json").status_code == 201


@pytest.mark.django_db
def test_multipart_uploads_have_their_own_larger_limit(small_limit, device_client):
    within = device_client.generic(
        "POST", "/api/telemetry/image/", b"x" * 1500, content_type="multipart/form-data; boundary=b"
    )
    assert within.status_code != 413
    beyond = device_client.generic(
        "POST", "/api/telemetry/image/", b"x" * 2500, content_type="multipart/form-data; boundary=b"
    )
    assert beyond.status_code == 413


@pytest.mark.django_db
def test_a_content_length_that_is_not_a_number_is_a_400_naming_it(anon_client):
    response = anon_client.generic(
        "POST", "/api/auth/token/", b"{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "Content-Length"
