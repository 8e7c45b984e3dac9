"""What the agent sends: scaled JPEG frames, classes of interest, the detections payload."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from brightwatch.contract.payloads import Detections, decode_device_json
from brightwatch.edge.camera.frames import detections_payload, encode_jpeg, fit_width, of_interest
from brightwatch.vision.detector.base import Detection
from tests.edge.camera_support import decode_jpeg

PERSON = Detection("person", 0.91, (100.0, 50.0, 300.0, 450.0), 0)
BOWL = Detection("bowl", 0.5, (10.0, 10.0, 20.0, 20.0), 45)


def test_fit_width_scales_down_only() -> None:
    wide = np.zeros((1080, 1920, 3), np.uint8)
    assert fit_width(wide, 1280).shape == (720, 1280, 3)
    assert fit_width(wide, None) is wide
    assert fit_width(wide, 4000) is wide


def test_jpeg_round_trip() -> None:
    image = np.full((90, 160, 3), (10, 200, 30), np.uint8)
    back = decode_jpeg(encode_jpeg(image, 90))
    assert back.shape == image.shape and np.abs(back.astype(int) - image).max() < 8


def test_classes_of_interest() -> None:
    assert of_interest([PERSON, BOWL], ["person", "rat"]) == [PERSON]
    assert of_interest([PERSON, BOWL], []) == [PERSON, BOWL]  # empty: every class


def test_detections_payload_follows_the_contract_with_scaled_boxes() -> None:
    ts = 1_763_800_000_123
    body = detections_payload(ts, 7, "coco@abc", 960, 540, [PERSON], scale=0.5)
    decoded = decode_device_json(body, Detections, datetime.fromtimestamp(ts / 1000, UTC))
    m = decoded.message
    assert (m.ts, m.seq, m.model, m.width, m.height) == (ts, 7, "coco@abc", 960, 540)
    (obj,) = m.objects
    assert (obj.label, obj.score, obj.box) == ("person", 0.91, [50.0, 25.0, 150.0, 225.0])
