"""Annotated copies of pictures: boxes, labels and scores drawn on a copy of the image
(the evidence route's `?annotated=1`, `brightwatch vision detect --save`). The stored
file is never changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import cv2
import numpy as np


class EvidenceMissing(LookupError):
    """The stored picture cannot be decoded or annotated."""


class Labelled(Protocol):
    """What is drawn for one object (a detector's `Detection` is one)."""

    @property
    def label(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def box(self) -> tuple[float, float, float, float]: ...  # x1, y1, x2, y2 in pixels
    @property
    def class_id(self) -> int: ...


class _Box(NamedTuple):
    label: str
    score: float
    box: tuple[float, float, float, float]
    class_id: int


def colour_for(class_id: int) -> tuple[int, int, int]:
    hue = (class_id * 47) % 180
    hsv = np.array([[[hue, 200, 230]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def annotate(image: np.ndarray, detections: Sequence[Labelled]) -> np.ndarray:
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


def annotated(jpeg: bytes, boxes: Sequence[dict[str, Any]], quality: int = 90) -> bytes:
    """A copy of a stored JPEG with its recorded boxes (`{"label", "score", "box"}`) drawn."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise EvidenceMissing("not a decodable JPEG")
    labels = sorted({str(b.get("label", "")) for b in boxes})
    dets = [
        _Box(
            str(b.get("label", "")),
            float(b.get("score", 0.0)),
            tuple(float(v) for v in b["box"]),  # type: ignore[arg-type]
            labels.index(str(b.get("label", ""))),
        )
        for b in boxes
        if isinstance(b.get("box"), list | tuple) and len(b["box"]) == 4
    ]
    ok, buf = cv2.imencode(".jpg", annotate(image, dets), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise EvidenceMissing("could not encode the annotated copy")
    return buf.tobytes()
