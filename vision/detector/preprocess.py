"""Letterbox preprocessing as the YOLO exporters expect it.

The image is scaled by one ratio (aspect kept) to fit the model's input, centred, and the
border filled with grey 114 (the value ultralytics trains with); then BGR -> RGB, /255,
HWC -> CHW. `Letterbox` remembers the ratio and padding so boxes can be mapped back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114  # ultralytics' letterbox fill


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How one image was placed into the model input: scaled by `ratio`, shifted by
    (`pad_x`, `pad_y`); the original size is kept for clipping."""

    ratio: float
    pad_x: float
    pad_y: float
    width: int  # original image size
    height: int

    def unmap(self, boxes: np.ndarray) -> np.ndarray:
        """Boxes (x1, y1, x2, y2) in model-input pixels -> original image pixels, clipped."""
        out = np.asarray(boxes, dtype=np.float32).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.ratio
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.ratio
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, self.width)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, self.height)
        return out


def letterbox(
    image: np.ndarray, size: tuple[int, int], *, scale_up: bool = True
) -> tuple[np.ndarray, Letterbox]:
    """`image` (H x W x 3 BGR) placed into `size` = (height, width) of the model input."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 BGR image, got shape {image.shape}")
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        raise ValueError("empty image")
    target_h, target_w = size
    ratio = min(target_h / h, target_w / w)
    if not scale_up:
        ratio = min(ratio, 1.0)
    new_w, new_h = max(round(w * ratio), 1), max(round(h * ratio), 1)
    pad_w, pad_h = (target_w - new_w) / 2, (target_h - new_h) / 2
    if (new_w, new_h) != (w, h):
        # bilinear like ultralytics' predictor, so scores match what the model was tuned on
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    # same rounding as ultralytics' LetterBox, so the grids line up with training
    top, bottom = round(pad_h - 0.1), round(pad_h + 0.1)
    left, right = round(pad_w - 0.1), round(pad_w + 0.1)
    padded = cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )
    return padded, Letterbox(ratio, float(left), float(top), w, h)


def to_tensor(images: Sequence[np.ndarray]) -> np.ndarray:
    """Letterboxed BGR images (same size) -> float32 N x 3 x H x W, RGB, 0..1."""
    batch = np.stack(images)  # N, H, W, 3 (BGR)
    batch = batch[..., ::-1].transpose(0, 3, 1, 2)  # RGB, NCHW
    return np.ascontiguousarray(batch, dtype=np.float32) * np.float32(1 / 255)


def prepare(
    images: Sequence[np.ndarray], size: tuple[int, int]
) -> tuple[np.ndarray, list[Letterbox]]:
    boxed = [letterbox(image, size) for image in images]
    return to_tensor([b[0] for b in boxed]), [b[1] for b in boxed]
