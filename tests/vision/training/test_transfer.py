"""Starting weights from an ultralytics ONNX export: the rebuilt PyTorch model answers
like the export it came from."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import shared_path
from vision.detector import load_detector
from vision.training.transfer import TransferError, checkpoint_from_onnx, folded_weights

pytest.importorskip("ultralytics")


def test_folded_int8_weights_are_dequantised() -> None:
    weights = folded_weights(shared_path("models", "coco", "yolo11n_int8_320.onnx"))
    first = weights["model.0.conv.weight"]
    assert first.shape == (16, 3, 3, 3) and first.dtype == np.float32
    assert np.abs(first).max() > 0 and "model.0.conv.bias" in weights


def test_checkpoint_reproduces_the_export(tmp_path: Path) -> None:
    export = shared_path("models", "coco", "yolo11n_int8_320.onnx")
    media = shared_path("media")
    calibration = sorted((media / "kitchen").iterdir()) + [media / "zidane.jpg"]
    pt = checkpoint_from_onnx(export, "yolo11n.yaml", tmp_path / "coco.pt", calibration)
    image = cv2.imread(str(media / "bus.jpg"))
    rebuilt = load_detector(str(pt), imgsz=320).detect(image)
    original = load_detector(str(export)).detect(image)
    assert rebuilt[0].label == original[0].label == "person"
    assert sorted(d.label for d in rebuilt if d.score > 0.5) == sorted(
        d.label for d in original if d.score > 0.5
    )
    assert rebuilt[0].box == pytest.approx(original[0].box, abs=4)


def test_a_mismatched_architecture_is_refused(tmp_path: Path) -> None:
    export = shared_path("models", "coco", "yolov8n_int8_dynamic.onnx")
    with pytest.raises(TransferError, match="does not fit yolo11n.yaml"):
        checkpoint_from_onnx(
            export, "yolo11n.yaml", tmp_path / "x.pt", [shared_path("media", "bus.jpg")]
        )
