"""Reading QR codes back from the PNGs we generate, as a phone camera would (zxing-cpp)."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def read_qr(png: bytes) -> str:
    """The text of the one QR code in ``png``; fails if there is not exactly one."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    codes = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, f"expected one QR code, found {len(codes)}"
    return codes[0]
