"""What a device card shows, worked out once per device from the prefetched sensors
and, for all cards at once, the alert rules that concern them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from alerts.selectors import alert_bounds_by_device, devices_silenced
from devices.config import DeviceConfig
from devices.device_types import ANALOG_GAUGE, DIGITAL_DISPLAY, GENERIC
from devices.models import Device
from devices.selectors import devices_of_user
from telemetry.payloads import DEFAULT_SENSOR

# A device heard from within this window is online; the cards' script applies the
# same window as time passes.
ONLINE_WINDOW = timedelta(minutes=5)
TYPE_LABELS = {ANALOG_GAUGE: "Analog gauge", DIGITAL_DISPLAY: "Digital display", GENERIC: "Generic sensor"}
STATUS_TEXT = {"online": "Online", "stale": "Stale", "never": "Never seen", "offline": "Offline"}


@dataclass(frozen=True)
class SensorSummary:
    key: str
    unit: str
    count: int
    last_value: float | None
    last_ts: datetime | None


@dataclass(frozen=True)
class DeviceCard:
    device: Device
    sensors: list[SensorSummary]
    latest: SensorSummary | None
    # A firing "no data" rule says the device is offline, whatever the clock says.
    offline: bool = False
    # Where the gauge's `value` sensor alerts: below `alert_lower`, above `alert_upper`.
    alert_lower: float | None = None
    alert_upper: float | None = None

    @property
    def is_gauge(self) -> bool:
        config = DeviceConfig.of(self.device.config)
        return (
            self.device.type == ANALOG_GAUGE and config.number("min") is not None and config.number("max") is not None
        )

    @property
    def is_display(self) -> bool:
        return self.device.type == DIGITAL_DISPLAY

    @property
    def display_digits(self) -> int | None:
        """How many digit positions the display has, when its calibration says."""
        return DeviceConfig.of(self.device.config).calibration_int("digits", low=1, high=12)

    @property
    def display_decimals(self) -> int | None:
        """The digits after the point the display shows, when its calibration says."""
        return DeviceConfig.of(self.device.config).calibration_int("decimals", low=0, high=6)

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.device.type, self.device.type)

    @property
    def status(self) -> str:
        if self.offline:
            return "offline"
        last_seen = self.device.last_seen_at
        if last_seen is None:
            return "never"
        return "online" if timezone.now() - last_seen <= ONLINE_WINDOW else "stale"

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    @property
    def unit(self) -> str:
        if self.latest and self.latest.unit:
            return self.latest.unit
        return DeviceConfig.of(self.device.config).unit or ""

    @property
    def config_json(self) -> str:
        return json.dumps(self.device.config, indent=2, sort_keys=True, ensure_ascii=False)


def _headline_sensor(sensors: list[SensorSummary]) -> SensorSummary | None:
    """The value a card leads with: the device's `value` sensor (what gauges and single
    value devices send), else the sensor heard from last."""
    heard = [sensor for sensor in sensors if sensor.last_ts is not None]
    for sensor in heard:
        if sensor.key == DEFAULT_SENSOR:
            return sensor
    return max(heard, key=lambda sensor: sensor.last_ts or datetime.min.replace(tzinfo=UTC), default=None)


def device_card(
    device: Device, *, offline: bool = False, alert_bounds: tuple[float | None, float | None] = (None, None)
) -> DeviceCard:
    # device.sensors is prefetched by devices.selectors.devices_of_user.
    sensors = sorted(
        (
            SensorSummary(
                key=sensor.key,
                unit=sensor.unit,
                count=sensor.reading_count,
                last_value=sensor.last_value,
                last_ts=sensor.last_ts,
            )
            for sensor in device.sensors.all()
        ),
        key=lambda sensor: sensor.key,
    )
    lower, upper = alert_bounds
    return DeviceCard(
        device=device,
        sensors=sensors,
        latest=_headline_sensor(sensors),
        offline=offline,
        alert_lower=lower,
        alert_upper=upper,
    )


def device_cards_of_user(*, user) -> list[DeviceCard]:
    """Every card of the dashboard, in three queries whatever the number of devices
    (devices with their sensors, silenced devices, gauge bounds)."""
    silenced = devices_silenced(user=user)
    bounds = alert_bounds_by_device(user=user, sensor=DEFAULT_SENSOR)
    return [
        device_card(device, offline=device.pk in silenced, alert_bounds=bounds.get(device.pk, (None, None)))
        for device in devices_of_user(user=user)
    ]
