import pytest

from telemetry.services import sensor_ids_for


@pytest.fixture
def sensor(device):
    return sensor_ids_for(device=device, keys={"value"})


@pytest.mark.django_db
class TestTimeRangeOffsets:
    def test_an_offset_past_what_postgresql_stores_is_read_as_utc(self, api_client, device, sensor):
        response = api_client.get(
            f"/api/devices/{device.pk}/readings/", {"start": "2026-01-01T04:21:08+22:43", "end": "2026-01-02T00:00:00Z"}
        )
        assert response.status_code == 200
        assert response.json()["start"].startswith("2025-12-31T05:38:08")

    def test_a_time_that_falls_before_year_one_in_utc_is_a_400_naming_the_field(self, api_client, device, sensor):
        response = api_client.get(f"/api/devices/{device.pk}/readings/", {"start": "0001-01-01T00:00:00+05:00"})
        assert response.status_code == 400
        assert "start" in response.json()

    def test_the_export_accepts_the_same_offsets(self, api_client, device, sensor):
        response = api_client.get("/api/export.csv", {"start": "0900-04-13T04:21:08+22:43"})
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"device_id,")
