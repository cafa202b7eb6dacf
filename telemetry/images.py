"""Readings from images: a device sends a photo of its gauge or display, the server
reads it with the device's calibration (edge_reader) and stores the value."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.cache import cache
from PIL import Image, UnidentifiedImageError

from devices.models import Device
from edge_reader.calibration import CalibrationError
from edge_reader.plausibility import PlausibilityFilter
from edge_reader.readers import read_image
from edge_reader.result import ReadError, Reading
from telemetry.models import Sensor
from telemetry.payloads import DEFAULT_SENSOR, ParsedReading, PayloadError
from telemetry.services import IngestResult, readings_ingest

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png"}
MAX_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class ImageReadingResult:
    reading: Reading
    stored: IngestResult


def device_calibration(device: Device) -> dict:
    """The device's calibration, completed from its config (an analog gauge's min, max
    and unit are the scale's ends unless the calibration says otherwise)."""
    config = device.config if isinstance(device.config, dict) else {}
    calibration = config.get("calibration")
    if not isinstance(calibration, dict):
        raise PayloadError(
            "This device has no calibration; set config.calibration (see the edge reader's calibrate command).",
            field="config.calibration",
            status=409,
        )
    defaults = {"min_value": config.get("min"), "max_value": config.get("max"), "unit": config.get("unit")}
    return {**{k: v for k, v in defaults.items() if v is not None}, **calibration}


def decode_image(data: bytes) -> tuple[np.ndarray, str]:
    """The image as an RGB array and its format; refuses what is not a JPEG or PNG of
    sane size before decoding it whole (a small file can claim a huge canvas)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise PayloadError(f"Send a JPEG or PNG image, not {image.format}.", field="image", status=415)
            if image.width * image.height > MAX_PIXELS:
                raise PayloadError(f"The image is larger than {MAX_PIXELS} pixels.", field="image", status=413)
            return np.asarray(image.convert("RGB"))[:, :, ::-1].copy(), image.format  # BGR, as OpenCV
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise PayloadError("The file is not a readable JPEG or PNG image.", field="image") from None


def reading_from_image(*, device: Device, data: bytes, received_at: datetime) -> ImageReadingResult:
    if len(data) > settings.TELEMETRY_MAX_IMAGE_BYTES:
        raise PayloadError(f"The image exceeds {settings.TELEMETRY_MAX_IMAGE_BYTES} bytes.", field="image", status=413)
    calibration = device_calibration(device)
    pixels, image_format = decode_image(data)
    try:
        reading = read_image(pixels, calibration)
    except CalibrationError as error:
        raise PayloadError(f"Unusable calibration: {error}", field="config.calibration", status=409) from None
    except ReadError as error:
        raise PayloadError(f"Could not read the image: {error}", field="image", status=422) from None
    if reading.confidence < settings.TELEMETRY_IMAGE_MIN_CONFIDENCE:
        # An uncertain reading is reported, never stored as data.
        raise PayloadError(
            f"The reading {reading.value:g} is too uncertain to store (confidence {reading.confidence:.2f}).",
            field="image",
            status=422,
        )
    sensor = calibration.get("sensor") or DEFAULT_SENSOR
    _check_plausible(device, sensor, float(reading.value), calibration.get("max_jump"))
    stored = readings_ingest(
        device=device, readings=[ParsedReading(sensor, received_at, float(reading.value))], received_at=received_at
    )
    _keep_image(device, data, image_format, received_at)
    return ImageReadingResult(reading=reading, stored=stored)


def _check_plausible(device: Device, sensor: str, value: float, max_jump) -> None:
    """With a `max_jump` in the calibration, a value that jumps further than that from
    the last one is refused as implausible (a misread digit, a glare streak), until
    readings agree on a new level (edge_reader.plausibility). The filter's state lives
    in the cache, so every worker judges alike when the cache is Redis."""
    if max_jump is None:
        return
    # Devices saved before max_jump was validated may hold a string or a bool.
    if isinstance(max_jump, bool) or not isinstance(max_jump, int | float):
        raise PayloadError(
            "Unusable calibration: max_jump must be a positive number.", field="config.calibration", status=409
        )
    key = f"telemetry:image-plausibility:{device.pk}:{sensor}"
    check = cache.get(key)
    if check is None or check.max_jump != max_jump:
        try:
            check = PlausibilityFilter(max_jump=float(max_jump))
        except (TypeError, ValueError) as error:
            raise PayloadError(
                f"Unusable calibration: max_jump: {error}", field="config.calibration", status=409
            ) from None
        last = Sensor.objects.filter(device=device, key=sensor).values_list("last_value", flat=True).first()
        check.last_accepted = last
    plausible = check.check(value)
    cache.set(key, check, timeout=None)
    if not plausible:
        raise PayloadError(
            f"Implausible reading {value:g}: more than {max_jump:g} from the last value {check.last_accepted:g}; "
            "not stored.",
            field="image",
            status=422,
        )


def _keep_image(device: Device, data: bytes, image_format: str, received_at: datetime) -> None:
    """Images are kept only when TELEMETRY_KEEP_IMAGES_DIR names a folder."""
    if not settings.TELEMETRY_KEEP_IMAGES_DIR:
        return
    folder = Path(settings.TELEMETRY_KEEP_IMAGES_DIR) / str(device.pk)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = received_at.strftime("%Y%m%dT%H%M%S.%fZ")
    (folder / f"{stamp}.{ACCEPTED_FORMATS[image_format]}").write_bytes(data)
