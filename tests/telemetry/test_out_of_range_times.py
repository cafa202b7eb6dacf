"""A timestamp that cannot be converted to UTC is a 400 naming `ts`, on every ingest path."""

import pytest

from telemetry.models import Reading
from tests.telemetry.helpers import post

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]


@pytest.mark.parametrize("ts", OUT_OF_RANGE)
def test_an_out_of_range_iso_time_is_a_400_naming_ts(device_client, ts):
    response = post(device_client, {"ts": ts, "values": {"t": 1}})
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "ts"
    assert not Reading.objects.exists()


@pytest.mark.parametrize("ts", OUT_OF_RANGE)
def test_an_out_of_range_iso_time_is_a_400_on_the_thingsboard_path(anon_client, device_token, ts):
    response = anon_client.post(f"/api/v1/{device_token}/telemetry", {"ts": ts, "values": {"t": 1}}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "ts"
