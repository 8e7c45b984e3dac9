"""Cutting object crops out of a frame for the attribute classifiers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def expand_box(
    box: Sequence[float], expand: float, width: int, height: int, *, square: bool = False
) -> tuple[int, int, int, int]:
    """The box scaled by `expand` about its centre (made square first when asked),
    clipped to the image; at least one pixel each way."""
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    if square:
        w = h = max(w, h)
    w, h = w * expand, h * expand
    left = int(np.clip(np.floor(cx - w / 2), 0, width - 1))
    top = int(np.clip(np.floor(cy - h / 2), 0, height - 1))
    right = int(np.clip(np.ceil(cx + w / 2), left + 1, width))
    bottom = int(np.clip(np.ceil(cy + h / 2), top + 1, height))
    return left, top, right, bottom


# where the lower face starts, as a share of a face box's height from its top: below the
# eyes, so that the nose, mouth and chin (what a mask covers) fill the crop and a cap,
# a hairnet or the brows never enter it
LOWER_FACE_FROM = 0.4


def face_part(box: Sequence[float], part: str) -> tuple[float, float, float, float]:
    """`lower`: the nose-to-chin part of a face box; anything else: the whole box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    if part == "lower":
        return (x1, y1 + LOWER_FACE_FROM * (y2 - y1), x2, y2)
    return (x1, y1, x2, y2)


def crop_boxes(
    image: np.ndarray,
    boxes: Sequence[Sequence[float]],
    *,
    expand: float = 1.0,
    square: bool = False,
) -> list[np.ndarray]:
    h, w = image.shape[:2]
    crops = []
    for box in boxes:
        left, top, right, bottom = expand_box(box, expand, w, h, square=square)
        crops.append(image[top:bottom, left:right])
    return crops
