"""Frame-shaped inputs (`rect`): the shared YOLO11 IR, traced at 640 x 640, rewritten to
run a frame at its own aspect, finds what the square finds; a model that is not a YOLO
trace keeps the square; backends without it ignore the option."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from brightwatch.vision.detector import Detection, load_detector
from brightwatch.vision.detector.openvino_backend import OpenVinoDetector
from brightwatch.vision.detector.openvino_shapes import (
    ShapeUnsupported,
    anchor_points,
    frame_input,
    reshape,
)
from brightwatch.vision.rules.zones import iou
from tests.conftest import shared_path
from tests.vision.synthetic import constant_detector

IR = ("models", "coco", "yolo11n_int8_openvino_model")
# a person in the middle of a 320 x 320 input, a cup left of it, a weak third box
ROWS = [
    [160, 160, 100, 200, 0.9, 0.0],
    [60, 200, 40, 40, 0.0, 0.7],
    [260, 60, 30, 30, 0.1, 0.05],
]
NAMES = ["person", "cup"]


@pytest.mark.parametrize(
    ("height", "width", "expected"),
    [
        (1080, 1920, (384, 640)),  # 16:9: 640 x 360 padded to 384
        (720, 1280, (384, 640)),
        (1920, 1080, (640, 384)),  # a portrait camera
        (576, 704, (544, 640)),  # D1: 640 x 524 padded to 544
        (178, 283, (416, 640)),  # scaled up, as the square letterbox does
        (1600, 1600, (640, 640)),
        (1, 4000, (32, 640)),
    ],
)
def test_the_input_is_the_frame_scaled_and_padded_to_a_multiple_of_32(
    height: int, width: int, expected: tuple[int, int]
) -> None:
    assert frame_input(height, width, 640) == expected


def test_an_empty_frame_has_no_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        frame_input(0, 640, 640)


def test_the_anchor_points_are_the_cells_centres_head_by_head() -> None:
    points, strides = anchor_points(64, 96)
    assert points.shape == (2, 8 * 12 + 4 * 6 + 2 * 3) and strides.shape == (126,)
    assert points[:, 0].tolist() == [0.5, 0.5] and points[:, 1].tolist() == [1.5, 0.5]
    assert points[:, 12].tolist() == [0.5, 1.5]  # second row of the stride-8 grid
    assert strides[:96].tolist() == [8.0] * 96 and strides[-6:].tolist() == [32.0] * 6
    assert points[:, -1].tolist() == [2.5, 1.5]


def _found(found: list[Detection], wanted: Detection, min_iou: float) -> bool:
    return any(d.label == wanted.label and iou(d.box, wanted.box) >= min_iou for d in found)


@pytest.mark.parametrize(
    "picture",
    [
        ("media", "zidane.jpg"),  # 1280 x 720: 640 x 384
        ("media", "bus.jpg"),  # 810 x 1080 portrait: 480 x 640
        ("media", "kitchen", "kavyakhurana_difficult_image_013.jpeg"),  # 1600 x 872: 640 x 352
        ("media", "kitchen", "kavyakhurana_difficult_image_02.png"),  # 1536 x 1024: 640 x 448
    ],
)
def test_the_shared_ir_at_the_frames_aspect_finds_what_the_square_finds(
    picture: tuple[str, ...],
) -> None:
    folder = str(shared_path(*IR))
    square = load_detector(folder)
    shaped = load_detector(folder, rect=True)
    assert isinstance(shaped, OpenVinoDetector) and shaped.rect
    image = cv2.imread(str(shared_path(*picture)))
    height, width = image.shape[:2]
    size = shaped.input_for(height, width)
    assert size == frame_input(height, width, 640) and size != (640, 640)
    assert square.input_for(height, width) == (640, 640)  # off by default
    ours, theirs = shaped.detect(image, conf=0.2), square.detect(image, conf=0.2)
    confident = [d for d in theirs if d.score >= 0.5]
    assert confident
    # the same pixels seen, only less padding: every confident object found by both
    # (measured: IoU 0.91-1.00 here, 0.79 at worst over the 13 kitchen photos)
    assert all(_found(ours, d, 0.75) for d in confident), (ours, confident)
    assert all(_found(theirs, d, 0.75) for d in ours if d.score >= 0.5), (ours, theirs)


@pytest.mark.parametrize(
    ("export", "square", "expected"),
    [
        ("yolo11n_int8_320.onnx", (320, 320), (192, 320)),  # the fallback without the IR
        ("yolov8n_int8_dynamic.onnx", (640, 640), (384, 640)),
    ],
)
def test_onnx_exports_under_openvino_run_at_the_frames_aspect_too(
    export: str, square: tuple[int, int], expected: tuple[int, int]
) -> None:
    """ONNX exports hold the anchor strides as 1 x N (an IR: 1 x 1 x N); YOLOv8 has no
    attention block."""
    model = str(shared_path("models", "coco", export))
    image = cv2.imread(str(shared_path("media", "zidane.jpg")))
    shaped = load_detector(model, backend="openvino", rect=True)
    assert isinstance(shaped, OpenVinoDetector)
    assert shaped.input_for(720, 1280) == expected and shaped.rect
    theirs = load_detector(model, backend="openvino").detect(image)
    assert load_detector(model, backend="openvino").input_for(720, 1280) == square
    ours = shaped.detect(image)
    confident = [d for d in theirs if d.score >= 0.5]
    assert confident and all(_found(ours, d, 0.75) for d in confident), (ours, theirs)


def test_the_rewrite_gives_the_anchor_count_of_the_new_grid() -> None:
    import openvino as ov

    model = ov.Core().read_model(str(next(shared_path(*IR).glob("*.xml"))))
    reshape(model, (640, 640), (384, 640))
    assert list(model.inputs[0].get_shape()) == [1, 3, 384, 640]
    assert list(model.outputs[0].get_shape()) == [1, 84, 48 * 80 + 24 * 40 + 12 * 20]


def test_a_model_that_is_not_a_yolo_trace_keeps_the_square(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = constant_detector(tmp_path / "const.onnx", ROWS, NAMES)
    import openvino as ov

    with pytest.raises(ShapeUnsupported, match="anchor"):
        reshape(ov.Core().read_model(str(model)), (320, 320), (192, 320))
    detector = load_detector(str(model), backend="openvino", rect=True)
    square = load_detector(str(model), backend="openvino")
    frame = np.zeros((720, 1280, 3), np.uint8)
    with caplog.at_level(logging.WARNING):
        assert detector.detect(frame) == square.detect(frame)
        assert detector.input_for(720, 1280) == (320, 320)
    assert not detector.rect
    assert sum("letterboxed into its square" in r.message for r in caplog.records) == 1


def test_backends_without_frame_shaped_inputs_ignore_rect(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = constant_detector(tmp_path / "const.onnx", ROWS, NAMES)
    frame = np.zeros((720, 1280, 3), np.uint8)
    with caplog.at_level(logging.WARNING):
        found = load_detector(str(model), backend="onnx", rect=True).detect(frame)
    assert found == load_detector(str(model), backend="onnx").detect(frame)
    assert any("rect ignored" in r.message for r in caplog.records)


def test_two_threads_meeting_a_new_shape_compile_it_once_and_agree() -> None:
    detector = load_detector(str(shared_path(*IR)), rect=True, concurrency=2)
    assert isinstance(detector, OpenVinoDetector)
    image = cv2.imread(str(shared_path("media", "zidane.jpg")))
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(detector.detect, [image, image.copy()])
    assert first and first == second
    assert sorted(detector._shapes) == [(384, 640), (640, 640)]


def test_past_the_cap_further_shapes_run_in_the_square(monkeypatch: pytest.MonkeyPatch) -> None:
    import brightwatch.vision.detector.openvino_backend as ovb

    monkeypatch.setattr(ovb, "MAX_SHAPES", 2)  # the square and one more
    detector = load_detector(str(shared_path(*IR)), rect=True)
    assert isinstance(detector, OpenVinoDetector)
    assert detector.input_for(720, 1280) == (384, 640)
    assert detector.input_for(576, 704) == (640, 640)  # a third shape: not compiled
    assert detector.input_for(720, 1280) == (384, 640)
    assert len(detector._shapes) == 2
    portrait = np.zeros((1280, 720, 3), np.uint8)
    assert detector.detect(portrait) == []  # runs, in the square


def test_a_shape_openvino_cannot_compile_runs_in_the_square_every_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import brightwatch.vision.detector.openvino_backend as ovb

    def refuse(model: object, traced: object, target: object) -> None:
        raise RuntimeError("cannot compile this shape")

    detector = load_detector(str(shared_path(*IR)), rect=True)
    square = load_detector(str(shared_path(*IR)))
    monkeypatch.setattr(ovb, "reshape", refuse)
    image = cv2.imread(str(shared_path("media", "zidane.jpg")))
    with caplog.at_level(logging.WARNING):
        first, second = detector.detect(image), detector.detect(image)
    assert first == second == square.detect(image)
    assert detector.rect and detector.input_for(720, 1280) == (640, 640)
    assert sum("letterboxed into its square" in r.message for r in caplog.records) == 1
