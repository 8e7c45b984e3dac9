"""The ONNX Runtime backend end to end on synthetic models with known outputs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from brightwatch.vision.detector import DetectorError, load_detector
from brightwatch.vision.detector.onnx_backend import OnnxDetector
from tests.vision.synthetic import constant_detector

# model-input pixels (320 x 320): a box centred at (160, 160), 100 x 50, class "b"
ROWS = [[160, 160, 100, 50, 0.1, 0.9], [40, 40, 10, 10, 0.3, 0.0]]


def test_known_box_comes_back_in_image_pixels(tmp_path: Path) -> None:
    detector = OnnxDetector(constant_detector(tmp_path / "m.onnx", ROWS, ["a", "b"]))
    assert detector.names == ("a", "b") and detector.input_size == (320, 320)
    # 640 x 320 image: ratio 0.5, 80 px of padding above: (110..210, 135..185) in the
    # input is (220..420, 110..210) in the image; the "a" box (35..45, 35..45) lies in
    # the top padding and is dropped
    found = detector.detect(np.zeros((320, 640, 3), np.uint8))
    assert [(d.label, d.class_id) for d in found] == [("b", 1)]
    assert found[0].box == pytest.approx((220, 110, 420, 210))
    assert found[0].score == pytest.approx(0.9)
    # a square image needs no padding: both boxes, best score first
    found = detector.detect(np.zeros((640, 640, 3), np.uint8))
    assert [d.label for d in found] == ["b", "a"]
    assert found[1].box == pytest.approx((70, 70, 90, 90))


def test_a_box_entirely_in_the_padding_is_dropped(tmp_path: Path) -> None:
    rows = [[160, 20, 40, 20, 0.9]]  # y 10..30, all inside the 80 px top padding
    detector = OnnxDetector(constant_detector(tmp_path / "m.onnx", rows, ["a"]))
    assert detector.detect(np.zeros((320, 640, 3), np.uint8)) == []


def test_conf_and_per_class_minimum_scores(tmp_path: Path) -> None:
    path = constant_detector(tmp_path / "m.onnx", ROWS, ["a", "b"])
    image = np.zeros((320, 320, 3), np.uint8)
    assert [d.label for d in OnnxDetector(path, conf=0.5).detect(image)] == ["b"]
    assert [d.label for d in OnnxDetector(path, class_scores={"b": 0.95}).detect(image)] == ["a"]
    # an explicit conf changes the default, not the class's own minimum
    detector = OnnxDetector(path, class_scores={"b": 0.95})
    assert detector.detect(image, conf=0.01)[0].label == "a"
    with pytest.raises(DetectorError, match="does not have: c"):
        OnnxDetector(path, class_scores={"c": 0.5})


def test_dynamic_batch_runs_images_together(tmp_path: Path) -> None:
    path = constant_detector(tmp_path / "m.onnx", ROWS, ["a", "b"], batch="batch")
    detector = OnnxDetector(path, batch_size=2)
    images = [np.zeros((320, 320, 3), np.uint8), np.zeros((100, 200, 3), np.uint8)] * 3
    results = detector.detect_batch(images)
    assert len(results) == 6
    assert all(r[0].box == pytest.approx((110, 135, 210, 185)) for r in results[::2])
    # the 200 x 100 image: ratio 1.6, 80 px of padding above
    for r in results[1::2]:
        assert r[0].box == pytest.approx((68.75, 34.375, 131.25, 65.625))


def test_names_from_a_sidecar_or_the_option(tmp_path: Path) -> None:
    path = constant_detector(tmp_path / "bare.onnx", ROWS, None)
    with pytest.raises(DetectorError, match="no class names"):
        OnnxDetector(path)
    assert OnnxDetector(path, names=["x", "y"]).names == ("x", "y")
    (tmp_path / "bare.yaml").write_text("names:\n  0: rat\n  1: mouse\n")
    assert OnnxDetector(path).names == ("rat", "mouse")


def test_refuses_other_tasks_and_missing_files(tmp_path: Path) -> None:
    path = constant_detector(tmp_path / "m.onnx", ROWS, ["a", "b"], metadata={"task": "segment"})
    with pytest.raises(DetectorError, match="'segment' model"):
        OnnxDetector(path)
    with pytest.raises(DetectorError, match="no ONNX model"):
        OnnxDetector(tmp_path / "absent.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(DetectorError, match="cannot load"):
        OnnxDetector(tmp_path / "junk.onnx")


def test_cuda_asked_without_cuda_falls_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has CUDA")
    path = constant_detector(tmp_path / "m.onnx", ROWS, ["a", "b"])
    with caplog.at_level(logging.WARNING):
        detector = OnnxDetector(path, device="cuda")
    assert detector.providers == ["CPUExecutionProvider"]
    assert "CUDA asked for" in caplog.text


def test_version_is_a_content_hash(tmp_path: Path) -> None:
    one = OnnxDetector(constant_detector(tmp_path / "one.onnx", ROWS, ["a", "b"]))
    same = OnnxDetector(constant_detector(tmp_path / "same.onnx", ROWS, ["a", "b"]))
    other = OnnxDetector(constant_detector(tmp_path / "other.onnx", ROWS[:1], ["a", "b"]))
    assert one.version == same.version != other.version
    assert len(one.version) == 12 and one.name == "one"


def test_load_detector_picks_the_onnx_backend_for_cuda(tmp_path: Path) -> None:
    # on the CPU an .onnx goes to OpenVINO (test_openvino_backend); CUDA is ONNX Runtime's
    path = constant_detector(tmp_path / "m.onnx", ROWS, ["a", "b"])
    detector = load_detector(str(path), conf=0.5, threads=1, device="cuda")
    assert isinstance(detector, OnnxDetector) and detector.conf == 0.5
