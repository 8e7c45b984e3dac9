"""The worker's JPEG decoding: size from the header, reduced decodes, boxes scaled back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from brightwatch.vision import jpeg


def _jpeg(w: int, h: int, progressive: bool = False) -> bytes:
    img = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    flags = [cv2.IMWRITE_JPEG_PROGRESSIVE, 1] if progressive else []
    return cv2.imencode(".jpg", img, flags)[1].tobytes()


@pytest.mark.parametrize(
    ("w", "h", "needed", "factor"),
    [
        (1280, 720, 320, 4),
        (1280, 720, 640, 2),
        (640, 480, 320, 2),
        (320, 240, 320, 1),
        (1920, 1080, None, 1),
        (4000, 3000, 320, 8),
    ],
)
def test_decode_at_the_smallest_sufficient_size(
    w: int, h: int, needed: int | None, factor: int
) -> None:
    data = _jpeg(w, h)
    assert jpeg.size(data) == (w, h)
    image, got, fw, fh = jpeg.decode(data, needed)
    assert (got, fw, fh) == (factor, w, h)
    assert image is not None and image.shape[:2] == (-(-h // factor), -(-w // factor))


def test_progressive_and_garbage() -> None:
    assert jpeg.size(_jpeg(333, 222, progressive=True)) == (333, 222)
    assert jpeg.size(b"\xff\xd8\xff\xe0\x00") is None
    assert jpeg.decode(b"\xff\xd8 not a jpeg", 320)[0] is None
