"""Evaluations from model to report folder (real ONNX Runtime, synthetic models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brightwatch.vision.classify import OnnxAttributeClassifier, load_classifier
from brightwatch.vision.detector.onnx_backend import OnnxDetector
from brightwatch.vision.evaluation.jobs import evaluate_classifier_alone, evaluate_detector
from brightwatch.vision.evaluation.runner import EvaluationError
from brightwatch.vision.evaluation.sources import (
    LabelledSource,
    open_labelled_set,
    open_labelled_video,
)
from tests.vision.synthetic import constant_classifier, constant_detector, labelled_video, yolo_set

MASKS = ["with_mask", "without_mask"]


def _faces(tmp_path: Path, single_class: str | None = None) -> LabelledSource:
    """Two faces at the centre, one masked, one bare: every image of the set."""
    root = yolo_set(
        tmp_path / "faces",
        {
            "masked.jpg": (320, 320, [(0, 0.5, 0.5, 0.25, 0.25)]),
            "bare.jpg": (320, 320, [(1, 0.5, 0.5, 0.25, 0.25)]),
        },
        MASKS,
    )
    return open_labelled_set(root, split="all", holdout=0.2, seed=0, single_class=single_class)


def _face_detector(tmp_path: Path) -> OnnxDetector:
    # always one face at the centre of a 320 x 320 input, score 0.8
    return OnnxDetector(
        constant_detector(tmp_path / "face.onnx", [[160, 160, 80, 80, 0.8]], ["face"])
    )


def _says_without_mask(tmp_path: Path) -> OnnxAttributeClassifier:
    return load_classifier(str(constant_classifier(tmp_path / "mask.onnx", [0.1, 0.9], MASKS)))


def test_the_classifier_alone_is_judged_on_the_sets_boxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    done = evaluate_classifier_alone(_says_without_mask(tmp_path), _faces(tmp_path))
    assert done.result.total == 2 and done.result.accuracy == pytest.approx(0.5)
    # the default folder names the classifier and the source
    assert done.paths["json"] == Path("runs/eval/mask-faces-all/metrics.json")
    metrics = json.loads(done.paths["json"].read_text())
    assert metrics["classifier"].startswith("mask@")
    assert metrics["crop_expand"] == 1.5  # the classifier's own, from its metadata
    assert metrics["split"] == "all" and metrics["crops"] == 2


def test_a_classifier_with_classes_the_set_lacks_is_refused(tmp_path: Path) -> None:
    hats = load_classifier(
        str(constant_classifier(tmp_path / "hat.onnx", [0.5, 0.5], ["hat", "no_hat"]))
    )
    with pytest.raises(EvaluationError, match="are not all in the set's"):
        evaluate_classifier_alone(hats, _faces(tmp_path), out=tmp_path / "out")


def test_the_classifier_alone_needs_a_set_not_a_video(tmp_path: Path) -> None:
    video, labels = labelled_video(tmp_path, [[]])
    with pytest.raises(EvaluationError, match="not a video"):
        evaluate_classifier_alone(
            _says_without_mask(tmp_path), open_labelled_video(video, labels, MASKS)
        )


def test_two_stage_report_records_both_models_and_the_crop_expansion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    done = evaluate_detector(
        _face_detector(tmp_path),
        _faces(tmp_path),
        classifier=_says_without_mask(tmp_path),
        crop_expand=1.2,
    )
    assert done.stats.frames == 2
    assert done.paths["json"] == Path("runs/eval/face+mask-faces-all/metrics.json")
    metrics = json.loads(done.paths["json"].read_text())
    assert metrics["model"].startswith("face@") and metrics["classifier"].startswith("mask@")
    assert metrics["crop_expand"] == 1.2 and metrics["class_map"] == {}
    assert metrics["images"] == 2 and metrics["classes"]["without_mask"]["recall"] == 1.0
    assert all(done.paths[k].exists() for k in ("pr_curves", "confusion_matrix"))


def test_a_detector_alone_records_no_classifier(tmp_path: Path) -> None:
    done = evaluate_detector(
        _face_detector(tmp_path),
        _faces(tmp_path, single_class="face"),
        operating_score=0.5,
        out=tmp_path / "out",
    )
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["classifier"] is None and metrics["crop_expand"] is None
    assert done.result.map50 == pytest.approx(1.0)
