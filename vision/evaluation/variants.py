"""CCTV-like variants of a labelled frame, for the kitchen dev set (`devset`).

Each variant turns an image into another and says where every point of the original went
(a 3 x 3 matrix, the identity for pixel-only changes), so that labelled boxes follow the
picture: `move_box` warps a box's corners, re-boxes them and clips to the new frame.
Everything is fixed (no randomness): the same input gives the same bytes on every run.

May import: numpy, cv2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[float, float, float, float]

# A camera mounted high and tilted down sees vertical lines converge towards the bottom
# and the scene foreshortened: the bottom edge keeps 60 % of the width, the height 80 %.
HIGH_ANGLE_BOTTOM_WIDTH = 0.6
HIGH_ANGLE_HEIGHT = 0.8
# A worker walking past a 1/25 s shutter, or a camera on a shaking bracket: a fixed
# horizontal smear of 9 px.
MOTION_BLUR_PX = 9
# Quality 25 is what a congested NVR stream looks like: blocking and ringing at edges.
LOW_JPEG_QUALITY = 25
FULL_HD = (1920, 1080)
# "full HD CCTV" only for pictures smaller than 720p: up-scaling a large photo would
# be neither a plausible camera nor a new difficulty.
FULL_HD_BELOW = 1280


@dataclass(frozen=True)
class Variant:
    """`make(image) -> (new image, matrix from old to new pixel coordinates)`;
    `applies(width, height)` says whether the variant makes sense for a frame size."""

    name: str
    description: str
    make: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    applies: Callable[[int, int], bool] = lambda w, h: True
    jpeg_quality: int = 95


def _base(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return image, np.eye(3)


def _high_angle(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    out_h = round(h * HIGH_ANGLE_HEIGHT)
    margin = w * (1.0 - HIGH_ANGLE_BOTTOM_WIDTH) / 2.0
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    dst = np.array([[0, 0], [w, 0], [w - margin, out_h], [margin, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(image, matrix, (w, out_h), flags=cv2.INTER_LINEAR)
    return warped, matrix.astype(np.float64)


def _half(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    size = (max(1, round(w * 0.5)), max(1, round(h * 0.5)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small, np.diag([size[0] / w, size[1] / h, 1.0])


def _low_jpeg(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # the compression itself happens when the frame is written with jpeg_quality 25
    return image, np.eye(3)


def _motion_blur(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kernel = np.full((1, MOTION_BLUR_PX), 1.0 / MOTION_BLUR_PX, dtype=np.float32)
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE), np.eye(3)


def _full_hd(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    out_w, out_h = FULL_HD
    scale = min(out_w / w, out_h / h)
    new_w, new_h = round(w * scale), round(h * scale)
    dx, dy = (out_w - new_w) // 2, (out_h - new_h) // 2
    canvas = np.zeros((out_h, out_w, 3), dtype=image.dtype)
    canvas[dy : dy + new_h, dx : dx + new_w] = cv2.resize(
        image, (new_w, new_h), interpolation=cv2.INTER_LINEAR
    )
    matrix = np.array([[new_w / w, 0.0, dx], [0.0, new_h / h, dy], [0.0, 0.0, 1.0]])
    return canvas, matrix


VARIANTS: tuple[Variant, ...] = (
    Variant("base", "the frame as labelled", _base),
    Variant("high_angle", "perspective warp of a camera high up looking down", _high_angle),
    Variant("half", "downscaled x0.5 (a sub-stream)", _half),
    Variant("jpeg25", "JPEG quality 25", _low_jpeg, jpeg_quality=LOW_JPEG_QUALITY),
    Variant("motion_blur", f"horizontal motion blur, {MOTION_BLUR_PX} px", _motion_blur),
    Variant(
        "fullhd",
        "letterboxed and up-scaled to 1920x1080 (small pictures only)",
        _full_hd,
        applies=lambda w, h: max(w, h) < FULL_HD_BELOW,
    ),
)
VARIANT_NAMES = tuple(v.name for v in VARIANTS)


def variant(name: str) -> Variant:
    for v in VARIANTS:
        if v.name == name:
            return v
    raise ValueError(f"unknown variant {name!r} (one of {', '.join(VARIANT_NAMES)})")


def move_box(
    box: Sequence[float], matrix: np.ndarray, width: int, height: int
) -> tuple[Box | None, float]:
    """The box after the transform, clipped to the new `width` x `height` frame, and the
    share of the transformed box's area still inside it (0 when nothing is left)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    corners = np.array([[[x1, y1], [x2, y1], [x2, y2], [x1, y2]]], dtype=np.float64)
    moved = cv2.perspectiveTransform(corners, matrix)[0]
    (ax1, ay1), (ax2, ay2) = moved.min(0), moved.max(0)
    full = (ax2 - ax1) * (ay2 - ay1)
    cx1, cy1 = max(ax1, 0.0), max(ay1, 0.0)
    cx2, cy2 = min(ax2, float(width)), min(ay2, float(height))
    if full <= 0 or cx2 <= cx1 or cy2 <= cy1:
        return None, 0.0
    kept = (cx2 - cx1) * (cy2 - cy1) / full
    clipped = tuple(round(float(v), 1) for v in (cx1, cy1, cx2, cy2))
    return (clipped[0], clipped[1], clipped[2], clipped[3]), float(kept)
