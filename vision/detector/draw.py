"""Annotated copies of frames: boxes, labels and scores drawn on a copy of the image."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from vision.detector.base import Detection


def colour_for(class_id: int) -> tuple[int, int, int]:
    hue = (class_id * 47) % 180
    hsv = np.array([[[hue, 200, 230]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def annotate(image: np.ndarray, detections: Sequence[Detection]) -> np.ndarray:
    out = image.copy()
    thickness = max(1, round(min(out.shape[:2]) / 400))
    for det in detections:
        x1, y1, x2, y2 = (round(v) for v in det.box)
        colour = colour_for(det.class_id)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness)
        text = f"{det.label} {det.score:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        top = max(y1 - th - base - 2, 0)
        cv2.rectangle(out, (x1, top), (x1 + tw + 4, top + th + base + 2), colour, -1)
        cv2.putText(
            out,
            text,
            (x1 + 2, top + th + 1),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    return out
