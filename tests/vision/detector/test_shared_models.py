"""The COCO models in ../shared through our ONNX backend, checked against ultralytics'
own predictor on the same file (skipped when ../shared or ultralytics is absent)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from brightwatch.vision.detector import load_detector
from tests.conftest import shared_path

MODELS = ["yolo11n_int8_320.onnx", "yolov8n_int8_dynamic.onnx"]


@pytest.mark.parametrize("model", MODELS)
def test_metadata_and_the_bus(model: str) -> None:
    path = shared_path("models", "coco", model)
    image = cv2.imread(str(shared_path("media", "bus.jpg")))
    detector = load_detector(str(path))
    assert len(detector.names) == 80 and detector.names[67] == "cell phone"
    found = detector.detect(image)
    labels = [d.label for d in found]
    assert labels.count("person") >= 4 and "bus" in labels
    h, w = image.shape[:2]
    assert all(0 <= d.box[0] < d.box[2] <= w and 0 <= d.box[1] < d.box[3] <= h for d in found)
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)


@pytest.mark.parametrize("model", MODELS)
def test_same_boxes_as_the_ultralytics_backend(model: str) -> None:
    pytest.importorskip("ultralytics")
    path = shared_path("models", "coco", model)
    image = cv2.imread(str(shared_path("media", "zidane.jpg")))
    ours = load_detector(str(path), backend="onnx").detect(image)
    theirs = load_detector(str(path), backend="ultralytics").detect(image)
    assert [d.label for d in ours] == [d.label for d in theirs]
    np.testing.assert_allclose([d.box for d in ours], [d.box for d in theirs], atol=1.0)
    np.testing.assert_allclose([d.score for d in ours], [d.score for d in theirs], atol=1e-3)
