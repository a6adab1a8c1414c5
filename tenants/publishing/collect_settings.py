"""ODK Collect's settings for an app user, and the QR code that carries them.

Collect scans a QR code holding its settings JSON, zlib-compressed and
base64-encoded. The JSON has three sections: ``general`` (server URL with the
app user's token, app language, form update mode), ``project`` (name shown in
Collect) and ``admin`` (the admin password, which locks settings on the
tablet). Every call builds a fresh dict: no shared mutable defaults, so one
project's admin password can never leak into another's settings.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zlib
from typing import Any

import qrcode
from PIL import Image, ImageDraw, ImageFont

from tenants.publishing.central.transport import normalize_base_url


def collect_settings(
    *,
    central_base_url: str,
    central_project_id: int,
    app_user_token: str,
    project_name: str,
    app_user_name: str,
    app_language: str,
    admin_password: str | None,
) -> dict[str, Any]:
    # Central serves app-user keys only under its API version: its proxy forwards
    # nothing else to the backend, so ``<base>/key/...`` is a 404 on a real server.
    root = normalize_base_url(central_base_url)
    server_url = f"{root}/v1/key/{app_user_token}/projects/{int(central_project_id)}"
    general: dict[str, Any] = {
        "server_url": server_url,
        "form_update_mode": "match_exactly",
        "autosend": "wifi_and_cellular",
        "delete_send": False,
        "app_language": app_language,
    }
    admin: dict[str, Any] = {"change_server": False, "automatic_update": False}
    if admin_password:
        admin["admin_pw"] = admin_password
    return {
        "general": general,
        "project": {"name": f"{project_name}: {app_user_name}", "icon": app_user_name[:1].upper()},
        "admin": admin,
    }


def encode_settings(settings_dict: dict[str, Any]) -> str:
    """The QR payload: zlib-compressed JSON, base64-encoded, as Collect expects."""
    raw = json.dumps(settings_dict, separators=(",", ":"), sort_keys=True).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_settings(payload: str) -> dict[str, Any]:
    return json.loads(zlib.decompress(base64.b64decode(payload)))


def settings_fingerprint(settings_dict: dict[str, Any]) -> str:
    """Changes whenever any input of the QR code changes (to know when to regenerate)."""
    raw = json.dumps(settings_dict, separators=(",", ":"), sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


def qr_png(payload: str, caption: str) -> bytes:
    """A PNG of the QR code with ``caption`` (the app user's name) written under it."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, box_size=6, border=4)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.make_image(fill_color="black", back_color="white").convert("RGB")
    font = ImageFont.load_default(size=28)
    caption_height = 48
    canvas = Image.new("RGB", (matrix.width, matrix.height + caption_height), "white")
    canvas.paste(matrix, (0, 0))
    draw = ImageDraw.Draw(canvas)
    text_width = draw.textlength(caption, font=font)
    draw.text(
        ((matrix.width - text_width) / 2, matrix.height + 6), caption, fill="black", font=font
    )
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()
