"""Seeing a full-HD frame with a small detector: square tiles over the frame, plus the
whole frame, merged.

A 1920 x 1080 frame shrunk to a 320-pixel input leaves a standing worker about 60
pixels tall: a clearly visible cook then scores 0.3 or is missed (a 640-pixel input, the
default detector's, sees 1080p whole; tiles are for larger frames or smaller models).
Cut into square tiles of the frame's height (two or three along its width,
overlapping), each tile is shrunk 3.4 times instead of 6, so the same worker is seen
almost twice as large, at about three times the cost of one frame. The whole frame is run as well, for what is larger than a
tile (a person close to the camera) and for what a tile border cuts.

Merging: a box that touches a tile's inner border is cut there and dropped (tiles
overlap, so the neighbouring tile or the whole frame sees that object whole); the rest,
in frame pixels, go through non-maximum suppression per class. Pure: numbers in,
numbers out.

May import: numpy, OpenCV.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

InputPolicy = Literal["auto", "full", "tiles"]
Window = tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels

# The `auto` policy tiles a frame taller than this many model inputs: with a 320 px
# model frames above 720p, with the default 640 px one frames above 1440p, so a 1080p
# camera is seen whole (on the kitchen dev set the 640 model finds as many staff on the
# whole frame as with tiles, at half the cost: bench/RESULTS.md "input policy").
TILE_ABOVE_INPUTS = 2.25
TILE_ABOVE_HEIGHT = 720  # where the model's input side is unknown
OVERLAP = 0.2  # neighbouring tiles share at least this share of their side
NMS_IOU = 0.5
EDGE = 2.0  # pixels: a box this close to a tile's inner border is cut by it


def tiled(policy: str, width: int, height: int, input_side: int | None = None) -> bool:
    """Whether a frame is cut into tiles: always with `tiles`, never with `full`; with
    `auto` when it is taller than `TILE_ABOVE_INPUTS` inputs of the model (`input_side`,
    the longer side of its input), or than `TILE_ABOVE_HEIGHT` when that is unknown."""
    if policy == "tiles":
        return True
    limit = TILE_ABOVE_INPUTS * input_side if input_side else TILE_ABOVE_HEIGHT
    return policy == "auto" and height > limit


def windows(width: int, height: int, side: int | None = None) -> list[Window]:
    """Square tiles of `side` pixels (default: the frame's shorter side) covering the
    frame, neighbours overlapping by at least `OVERLAP`, then the whole frame."""
    side = min(side or min(width, height), width, height)
    step = max(1, int(side * (1 - OVERLAP)))

    def starts(extent: int) -> list[int]:
        if extent <= side:
            return [0]
        count = int(np.ceil((extent - side) / step)) + 1
        return [round(i * (extent - side) / (count - 1)) for i in range(count)]

    tiles = [(x, y, x + side, y + side) for y in starts(height) for x in starts(width)]
    whole = (0, 0, width, height)
    return tiles + ([whole] if whole not in tiles else [])


def cut(box: Sequence[float], window: Window, width: int, height: int) -> bool:
    """Whether a box found in a tile touches a border of that tile inside the frame:
    the object is cut there, and another window (the neighbouring tile, the whole frame)
    sees it whole."""
    x1, y1, x2, y2 = window
    bx1, by1, bx2, by2 = box  # in tile pixels
    return (
        (x1 > 0 and bx1 <= EDGE)
        or (y1 > 0 and by1 <= EDGE)
        or (x2 < width and bx2 >= x2 - x1 - EDGE)
        or (y2 < height and by2 >= y2 - y1 - EDGE)
    )


def merge(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float = NMS_IOU
) -> np.ndarray:
    """Indices kept, best first: per class, a box overlapping a better kept one by `iou`
    is the same object seen from another window. Never suppressed for lying inside a
    larger box: in a kitchen the colleague behind a worker does."""
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    area = np.maximum(0, x2 - x1) * np.maximum(0, y2 - y1)
    kept: list[int] = []
    for i in order:
        same = np.array([k for k in kept if classes[k] == classes[i]], dtype=np.int64)
        if len(same):
            ix = np.maximum(0, np.minimum(x2[same], x2[i]) - np.maximum(x1[same], x1[i]))
            iy = np.maximum(0, np.minimum(y2[same], y2[i]) - np.maximum(y1[same], y1[i]))
            inter = ix * iy
            if np.any(inter >= iou * np.maximum(area[same] + area[i] - inter, 1e-9)):
                continue
        kept.append(int(i))
    return np.array(kept, dtype=np.int64)


def offset(box: Sequence[float], window: Window) -> tuple[float, float, float, float]:
    x, y = window[0], window[1]
    return (box[0] + x, box[1] + y, box[2] + x, box[3] + y)
