"""Starting weights from an ultralytics ONNX export: the rebuilt PyTorch model answers
like the export it came from; its fp32 and int8 re-exports do too."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from brightwatch.vision.boxes import iou_matrix
from brightwatch.vision.detector import load_detector
from brightwatch.vision.training.transfer import TransferError, checkpoint_from_onnx, folded_weights
from tests.conftest import shared_path

pytest.importorskip("ultralytics")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    export = shared_path("models", "coco", "yolo11n_int8_320.onnx")
    media = shared_path("media")
    calibration = sorted((media / "kitchen").iterdir()) + [media / "zidane.jpg"]
    out = tmp_path_factory.mktemp("transfer") / "coco.pt"
    return checkpoint_from_onnx(export, "yolo11n.yaml", out, calibration)


def labels_above(detections: list, score: float) -> list[str]:  # type: ignore[type-arg]
    return sorted(d.label for d in detections if d.score > score)


def test_folded_int8_weights_are_dequantised() -> None:
    weights = folded_weights(shared_path("models", "coco", "yolo11n_int8_320.onnx"))
    first = weights["model.0.conv.weight"]
    assert first.shape == (16, 3, 3, 3) and first.dtype == np.float32
    assert np.abs(first).max() > 0 and "model.0.conv.bias" in weights


def test_checkpoint_reproduces_the_export(rebuilt: Path) -> None:
    image = cv2.imread(str(shared_path("media", "bus.jpg")))
    found = load_detector(str(rebuilt), imgsz=320).detect(image)
    original = load_detector(str(shared_path("models", "coco", "yolo11n_int8_320.onnx"))).detect(
        image
    )
    assert found[0].label == original[0].label == "person"
    assert labels_above(found, 0.5) == labels_above(original, 0.5)
    assert found[0].box == pytest.approx(original[0].box, abs=4)


def test_fp32_and_static_int8_exports_answer_alike(rebuilt: Path, tmp_path: Path) -> None:
    from brightwatch.vision.training.detector import export_onnx
    from brightwatch.vision.training.quantize import quantize_static_int8

    fp32 = export_onnx(rebuilt, tmp_path / "coco_fp32.onnx", imgsz=320)
    media = shared_path("media")
    int8 = quantize_static_int8(
        fp32, tmp_path / "coco_int8.onnx", sorted((media / "kitchen").iterdir())
    )
    image = cv2.imread(str(media / "bus.jpg"))
    reference = load_detector(str(fp32)).detect(image)
    quantised = load_detector(str(int8))
    assert quantised.names == load_detector(str(fp32)).names  # metadata carried over
    found = quantised.detect(image)
    # int8 activations cost some confidence (the bus drops below 0.5 with so few
    # calibration frames; `vision eval` measures the loss on a set), the people stay
    assert labels_above(found, 0.5).count("person") == labels_above(reference, 0.5).count("person")
    assert iou_matrix([found[0].box], [reference[0].box])[0, 0] > 0.85


def test_a_mismatched_architecture_is_refused(tmp_path: Path) -> None:
    export = shared_path("models", "coco", "yolov8n_int8_dynamic.onnx")
    with pytest.raises(TransferError, match="does not fit yolo11n.yaml"):
        checkpoint_from_onnx(
            export, "yolo11n.yaml", tmp_path / "x.pt", [shared_path("media", "bus.jpg")]
        )
