"""QR codes that hand a device its server, id and token in one scan."""

from __future__ import annotations

import io
import json

import qrcode
import qrcode.image.svg


def device_qr_payload(*, server: str, device_id: int, token: str) -> str:
    return json.dumps({"server": server, "device": device_id, "token": token}, separators=(",", ":"))


def _qr(payload: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(payload)
    code.make(fit=True)
    return code


def qr_svg(payload: str) -> bytes:
    buffer = io.BytesIO()
    _qr(payload).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


def qr_png(payload: str, *, box_size: int = 8) -> bytes:
    code = _qr(payload)
    code.box_size = box_size
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
