"""Readings from images: a device sends a photo of its gauge or display, the server
reads it with the device's calibration (edge_reader) and stores the value."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings
from django.core.cache import cache
from PIL import Image, UnidentifiedImageError

from devices.models import Device
from devices.services import device_update
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
        keep_last_image(device, data, image_format, pixels, None, str(error), received_at)
        raise PayloadError(f"Could not read the image: {error}", field="image", status=422) from None
    if reading.confidence < settings.TELEMETRY_IMAGE_MIN_CONFIDENCE:
        # An uncertain reading is reported, never stored as data.
        reason = f"The reading {reading.value:g} is too uncertain to store (confidence {reading.confidence:.2f})"
        doubt = reading.details.get("doubt")
        reason = f"{reason}: {doubt}." if doubt else f"{reason}."
        keep_last_image(device, data, image_format, pixels, reading, reason, received_at)
        raise PayloadError(reason, field="image", status=422)
    keep_last_image(device, data, image_format, pixels, reading, None, received_at)
    sensor = calibration.get("sensor") or DEFAULT_SENSOR
    _check_plausible(device, sensor, float(reading.value), calibration.get("max_jump"))
    stamped = ParsedReading(sensor, received_at, float(reading.value), stamped=True)
    stored = readings_ingest(device=device, readings=[stamped], received_at=received_at)
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


def _last_image_folder(device: Device) -> Path:
    return Path(settings.TELEMETRY_LAST_IMAGE_DIR) / str(device.pk)


def keeps_last_image(device: Device) -> bool:
    """The owner turned on `keep_last_image` in the device's config."""
    config = device.config if isinstance(device.config, dict) else {}
    return config.get("keep_last_image") is True


def keep_last_image(
    device: Device,
    data: bytes,
    image_format: str,
    pixels: np.ndarray,
    reading: Reading | None,
    refusal: str | None,
    received_at: datetime,
) -> None:
    """The last photo, the overlay of what the reader found and the outcome, one set per
    device, replaced by each new photo; kept only when the owner turned it on. Refusals
    are kept too: they are what a user needs to see to fix the set-up."""
    if not keeps_last_image(device):
        return
    from edge_reader.overlay import draw_overlay  # only for devices that keep their photo

    folder = _last_image_folder(device)
    folder.mkdir(parents=True, exist_ok=True)
    ok, overlay = cv2.imencode(".png", draw_overlay(pixels, reading, refusal))
    for old in folder.glob("photo.*"):
        old.unlink()
    (folder / f"photo.{ACCEPTED_FORMATS[image_format]}").write_bytes(data)
    if ok:
        (folder / "overlay.png").write_bytes(overlay.tobytes())
    outcome = {
        "received_at": received_at.isoformat(),
        "value": reading.value if reading is not None and refusal is None else None,
        "confidence": reading.confidence if reading is not None else None,
        "refusal": refusal,
    }
    (folder / "outcome.json").write_text(json.dumps(outcome))


def last_image_keeping_set(*, device: Device, keep: bool) -> Device:
    """Turn keeping the last photo on or off. Turning it off also forgets what was kept:
    a photo the owner no longer wants kept should not stay on the server's disk."""
    config = {key: value for key, value in (device.config or {}).items() if key != "keep_last_image"}
    if keep:
        config["keep_last_image"] = True
    device = device_update(device=device, config=config)
    if not keep:
        forget_last_image(instance=device)
    return device


def forget_last_image(*, instance: Device) -> None:
    """Delete what was kept for the device."""
    shutil.rmtree(_last_image_folder(instance), ignore_errors=True)


def last_image(device: Device) -> dict | None:
    """What keep_last_image kept for the device: the outcome, and the photo's file name."""
    folder = _last_image_folder(device)
    photos = sorted(folder.glob("photo.*")) if folder.is_dir() else []
    if not photos or not (folder / "outcome.json").is_file():
        return None
    outcome = json.loads((folder / "outcome.json").read_text())
    return {**outcome, "photo": photos[0], "overlay": folder / "overlay.png"}
