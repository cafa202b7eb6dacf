import json
import logging

import pytest

from iotsite.log import JsonFormatter, RequestIdFilter, request_id_for


def test_a_sane_incoming_request_id_is_kept():
    assert request_id_for("edge-42.abc:7") == "edge-42.abc:7"


@pytest.mark.parametrize("incoming", [None, "", "x" * 129, "two words", "line\nbreak", '{"json":1}'])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(incoming):
    new = request_id_for(incoming)
    assert new != incoming
    assert len(new) == 32


@pytest.mark.django_db
def test_every_answer_carries_the_request_id_it_was_given(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="probe-1")
    assert response["X-Request-ID"] == "probe-1"


@pytest.mark.django_db
def test_an_answer_without_a_given_id_carries_a_new_one(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
def test_log_lines_written_during_a_request_carry_its_id(client, settings, caplog):
    settings.LOG_REQUESTS = True
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="iotsite.request"):
        client.get("/healthz", HTTP_X_REQUEST_ID="trace-me")
    [record] = [record for record in caplog.records if record.name == "iotsite.request"]
    assert record.request_id == "trace-me"
    assert (record.method, record.path, record.status) == ("GET", "/healthz", 200)


@pytest.mark.django_db
def test_a_device_token_in_the_path_stays_out_of_the_request_log(client, settings, caplog, device_token):
    settings.LOG_REQUESTS = True
    with caplog.at_level(logging.INFO, logger="iotsite.request"):
        client.post(f"/api/v1/{device_token}/telemetry", b'{"value": 1}', content_type="application/json")
    [record] = [record for record in caplog.records if record.name == "iotsite.request"]
    assert device_token not in record.getMessage()
    assert record.path == "/api/v1/<str:device_token>/telemetry"


def test_the_json_formatter_writes_one_object_with_the_request_id_and_extras():
    record = logging.LogRecord("iotsite.request", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.request_id = "abc"
    record.status = 200
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /x"
    assert line["request_id"] == "abc"
    assert line["status"] == 200
    assert line["level"] == "INFO"
    assert line["ts"].endswith("Z")


def test_the_json_formatter_keeps_the_traceback_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    output = JsonFormatter().format(record)
    assert "\n" not in output
    assert "ValueError: boom" in json.loads(output)["exc_info"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["claim", "firmware", "attributes/nothing", ""])
def test_other_thingsboard_paths_answer_404_without_logging_the_token(client, caplog, device_token, path):
    with caplog.at_level(logging.INFO):
        response = client.get(f"/api/v1/{device_token}/{path}")
    assert response.status_code == 404
    assert "telemetry" in response.json()["detail"]
    assert not [record for record in caplog.records if record.name == "django.request"]


@pytest.mark.django_db
def test_other_thingsboard_paths_answer_401_for_an_unknown_token(client):
    assert client.get("/api/v1/iotd_not-a-token/attributes").status_code == 401


def test_the_mask_covers_paths_query_strings_and_bare_secrets():
    from iotsite.log import mask_secrets

    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl"
    token = "iotd_" + "A" * 43
    line = f"GET /api/v1/{token}/rpc?x=1 /ws/live/?token={jwt}&b=2 Authorization: Bearer {jwt} Device {token}"
    masked = mask_secrets(line)
    assert token not in masked and jwt not in masked
    assert masked.startswith("GET /api/v1/***/rpc?x=1 /ws/live/?token=***&b=2")
    assert mask_secrets("GET /update?field1=2&api_key=K3Y") == "GET /update?field1=2&api_key=***"
    assert mask_secrets("POST /write?db=x&u=me&p=s3cret") == "POST /write?db=x&u=me&p=***"
