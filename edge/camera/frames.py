"""What the agent sends: JPEG frames and the detections payload of interfaces.md."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import msgspec
import numpy as np

from brightwatch.contract.payloads import DetectedObject, Detections
from brightwatch.vision.detector.base import Detection


def fit_width(image: np.ndarray, max_width: int | None) -> np.ndarray:
    """The image scaled down to `max_width` (aspect kept); unchanged when narrower."""
    h, w = image.shape[:2]
    if max_width is None or w <= max_width:
        return image
    height = max(1, round(h * max_width / w))
    return cv2.resize(image, (max_width, height), interpolation=cv2.INTER_AREA)


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


def of_interest(detections: Iterable[Detection], labels: Sequence[str]) -> list[Detection]:
    """Detections whose class is among `labels` (all of them when `labels` is empty)."""
    wanted = set(labels)
    return [d for d in detections if not wanted or d.label in wanted]


def detections_payload(
    ts_ms: int,
    seq: int,
    model: str,
    width: int,
    height: int,
    detections: Sequence[Detection],
    scale: float = 1.0,
) -> bytes:
    """`{"ts","seq","model","width","height","objects":[{"label","score","box"}]}`; boxes
    multiplied by `scale` (detections made on the full frame, a smaller frame sent)."""
    objects = [
        DetectedObject(
            label=d.label,
            score=round(float(d.score), 4),
            box=[round(float(v) * scale, 1) for v in d.box],
        )
        for d in detections
    ]
    return msgspec.json.encode(
        Detections(ts=ts_ms, seq=seq, model=model, width=width, height=height, objects=objects)
    )
