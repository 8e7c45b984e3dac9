"""JPEG decoding for the worker: the picture size from the header, and a decode at the
smallest power-of-two reduction that still covers the detectors' input (libjpeg scales
while decoding: a 1280 x 720 frame for a 320 px detector decodes at 1/2 in about a third
of the time). Boxes found on the reduced picture are scaled back to the frame's pixels."""

from __future__ import annotations

import struct

import cv2
import numpy as np

_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first start-of-frame marker, or None."""
    pos, end = 2, len(data)
    try:
        while pos + 4 <= end:
            if data[pos] != 0xFF:
                return None
            marker = data[pos + 1]
            if marker == 0xFF:
                pos += 1
                continue
            length = struct.unpack_from(">H", data, pos + 2)[0]
            if marker in _SOF:
                h, w = struct.unpack_from(">HH", data, pos + 5)
                return (w, h) if w and h else None
            pos += 2 + length
    except struct.error:
        return None
    return None


def reduction(width: int, height: int, needed: int) -> int:
    """Largest factor (1, 2, 4, 8) keeping the longer side at least `needed` pixels."""
    factor = 1
    longer = max(width, height)
    while factor < 8 and longer // (factor * 2) >= needed:
        factor *= 2
    return factor


def decode(data: bytes, needed: int | None) -> tuple[np.ndarray | None, int, int, int]:
    """(image, factor, full width, full height); `needed` None decodes at full size."""
    dims = size(data)
    factor = reduction(*dims, needed) if dims is not None and needed else 1
    image = cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED[factor])
    if image is None:
        return None, 1, 0, 0
    if dims is None or factor == 1:
        h, w = image.shape[:2]
        return image, 1, w, h
    return image, factor, dims[0], dims[1]
