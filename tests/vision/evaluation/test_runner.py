"""Running models over labelled sets and videos (real ONNX Runtime, synthetic models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brightwatch.vision.classify import load_classifier
from brightwatch.vision.detector.labels_backend import LabelReplay
from brightwatch.vision.detector.onnx_backend import OnnxDetector
from brightwatch.vision.evaluation.runner import EvaluationError, evaluate, images_of, video_frames
from brightwatch.vision.yoloset import open_set
from tests.vision.synthetic import constant_classifier, constant_detector, labelled_video, yolo_set

MOVING = [[(0, 0.2 + 0.05 * i, 0.5, 0.2, 0.2)] if i % 3 else [] for i in range(12)]


def test_video_frames_line_up_with_their_label_files(tmp_path: Path) -> None:
    video, labels = labelled_video(tmp_path, MOVING)
    samples = list(video_frames(video, labels))
    assert len(samples) == 12
    assert [len(s.truth) for s in samples] == [len(f) for f in MOVING]
    assert samples[4].truth.xywhn[0, 0] == pytest.approx(0.4)


def test_ground_truth_replay_scores_one_and_a_shifted_replay_does_not(tmp_path: Path) -> None:
    video, labels = labelled_video(tmp_path, MOVING)
    result, stats = evaluate(
        video_frames(video, labels), LabelReplay(labels, names=["rat"]), ["rat"], progress=False
    )
    assert result.map50 == pytest.approx(1.0) and result.map50_95 == pytest.approx(1.0)
    assert stats.frames == 12
    shifted = LabelReplay(labels, names=["rat"])
    shifted.seek(-1)  # one frame late: boxes 0.05 x 96 px off, some frames empty
    late, _ = evaluate(video_frames(video, labels), shifted, ["rat"], progress=False)
    assert late.map50_95 < 0.9


def test_detector_on_a_labelled_set(tmp_path: Path) -> None:
    # the model always answers one box at the centre of a 320 x 320 input
    root = yolo_set(
        tmp_path / "set",
        {
            "hit.jpg": (320, 320, [(0, 0.5, 0.5, 0.25, 0.25)]),
            "miss.jpg": (320, 320, [(0, 0.1, 0.1, 0.1, 0.1)]),
        },
        ["box"],
    )
    detector = OnnxDetector(
        constant_detector(tmp_path / "m.onnx", [[160, 160, 80, 80, 0.8]], ["box"])
    )
    yset = open_set(root)
    result, _ = evaluate(images_of(yset.split("all")), detector, yset.names, progress=False)
    (c,) = result.classes
    assert (c.truths, c.detections) == (2, 2)
    assert c.precision == pytest.approx(0.5) and c.recall == pytest.approx(0.5)


def test_two_stage_relabels_boxes_with_the_classifier(tmp_path: Path) -> None:
    root = yolo_set(
        tmp_path / "set",
        {"one.jpg": (320, 320, [(1, 0.5, 0.5, 0.25, 0.25)])},
        ["with_mask", "without_mask"],
    )
    detector = OnnxDetector(
        constant_detector(tmp_path / "face.onnx", [[160, 160, 80, 80, 0.8]], ["face"])
    )
    says_without = load_classifier(
        str(constant_classifier(tmp_path / "c.onnx", [0.1, 0.9], ["with_mask", "without_mask"]))
    )
    yset = open_set(root)
    result, _ = evaluate(
        images_of(yset.split("all")), detector, yset.names, classifier=says_without, progress=False
    )
    by_name = {c.name: c for c in result.classes}
    assert by_name["without_mask"].ap50 == pytest.approx(1.0)
    assert by_name["without_mask"].detections == 1  # score 0.8 x 0.9 = 0.72
    # the detector alone shares no class with the set: a clear error, not a zero
    with pytest.raises(EvaluationError, match="share no class"):
        evaluate(images_of(yset.split("all")), detector, yset.names, progress=False)
    # ... unless mapped
    alone, _ = evaluate(
        images_of(yset.split("all")),
        detector,
        yset.names,
        class_map={"face": "without_mask"},
        progress=False,
    )
    assert alone.classes[1].ap50 == pytest.approx(1.0)


def test_unreadable_images_are_skipped(tmp_path: Path) -> None:
    root = yolo_set(tmp_path / "set", {"ok.jpg": (64, 64, [])}, ["a"])
    (root / "images" / "train" / "broken.jpg").write_bytes(b"not a jpeg")
    samples = list(images_of(open_set(root).split("all")))
    assert [s.key for s in samples] == ["ok.jpg"]
    assert isinstance(samples[0].image, np.ndarray)


def test_single_class_merge_judges_finding_the_objects(tmp_path: Path) -> None:
    from brightwatch.vision.evaluation.runner import merge_classes

    root = yolo_set(
        tmp_path / "set",
        {"one.jpg": (320, 320, [(2, 0.5, 0.5, 0.25, 0.25)])},
        ["with_mask", "without_mask", "mask_weared_incorrect"],
    )
    detector = OnnxDetector(
        constant_detector(tmp_path / "face.onnx", [[160, 160, 80, 80, 0.8]], ["face"])
    )
    samples = merge_classes(images_of(open_set(root).split("all")))
    result, _ = evaluate(samples, detector, ["face"], progress=False)
    assert result.classes[0].truths == 1 and result.map50 == pytest.approx(1.0)
