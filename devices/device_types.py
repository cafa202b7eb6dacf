"""Device types: an open-ended slug, with the config of known types validated."""

from __future__ import annotations

from collections.abc import Callable

from devices.config import is_finite_number

ConfigErrors = dict[str, list[str]]

ANALOG_GAUGE = "analog_gauge"
DIGITAL_DISPLAY = "digital_display"
GENERIC = "generic"


def _check_unit(config: dict, errors: ConfigErrors, *, required: bool) -> None:
    unit = config.get("unit")
    if unit is None:
        if required:
            errors["unit"] = ["This field is required."]
    elif not isinstance(unit, str) or not unit.strip() or len(unit) > 32:
        errors["unit"] = ["Must be a non-empty string of at most 32 characters."]


def _check_calibration(config: dict, errors: ConfigErrors) -> None:
    calibration = config.get("calibration")
    if calibration is not None and not isinstance(calibration, dict):
        errors["calibration"] = ["Must be an object."]
        return
    # The server applies max_jump to every photo (telemetry/images.py): a positive number.
    if (
        calibration
        and "max_jump" in calibration
        and not (is_finite_number(calibration["max_jump"]) and calibration["max_jump"] > 0)
    ):
        errors["calibration.max_jump"] = ["Must be a positive number."]


def _analog_gauge_errors(config: dict) -> ConfigErrors:
    errors: ConfigErrors = {}
    _check_unit(config, errors, required=True)
    for bound in ("min", "max"):
        if bound not in config:
            errors[bound] = ["This field is required."]
        elif not is_finite_number(config[bound]):
            errors[bound] = ["Must be a finite number."]
    if not errors.keys() & {"min", "max"} and config["min"] >= config["max"]:
        errors["max"] = ["Must be greater than min."]
    _check_calibration(config, errors)
    return errors


def _digital_display_errors(config: dict) -> ConfigErrors:
    errors: ConfigErrors = {}
    _check_unit(config, errors, required=False)
    _check_calibration(config, errors)
    return errors


CONFIG_VALIDATORS: dict[str, Callable[[dict], ConfigErrors]] = {
    ANALOG_GAUGE: _analog_gauge_errors,
    DIGITAL_DISPLAY: _digital_display_errors,
}
KNOWN_TYPES = [GENERIC, ANALOG_GAUGE, DIGITAL_DISPLAY]


# Settings of the compatible ingest protocols (docs/protocols.md), for any type.
LINE_PROTOCOL_TAGS = "line_protocol_tags"  # "drop" (default), "keep", or a list of tag keys to keep
THINGSPEAK_FIELDS = "thingspeak_fields"  # {"field1": "temperature", ...}; unnamed fields keep "fieldN"
THINGSPEAK_FIELD_NAMES = {f"field{number}" for number in range(1, 9)}


def _protocol_errors(config: dict) -> ConfigErrors:
    errors: ConfigErrors = {}
    tags = config.get(LINE_PROTOCOL_TAGS)
    tag_list = isinstance(tags, list) and all(isinstance(tag, str) and tag for tag in tags)
    if tags is not None and tags not in ("drop", "keep") and not tag_list:
        errors[LINE_PROTOCOL_TAGS] = ['Must be "drop", "keep", or a list of tag keys to keep.']
    fields = config.get(THINGSPEAK_FIELDS)
    if fields is not None:
        if not isinstance(fields, dict) or not set(fields) <= THINGSPEAK_FIELD_NAMES:
            errors[THINGSPEAK_FIELDS] = ["Must be an object of field1 … field8: sensor name."]
        elif not all(isinstance(name, str) and name.strip() and len(name) <= 64 for name in fields.values()):
            errors[THINGSPEAK_FIELDS] = ["Each sensor name must be a non-empty string of at most 64 characters."]
    return errors


def config_errors(device_type: str, config: dict) -> ConfigErrors:
    """Field errors of a device's config for its type; unknown types accept any object."""
    validator = CONFIG_VALIDATORS.get(device_type)
    errors = validator(config) if validator else {}
    return {**_protocol_errors(config), **errors}
