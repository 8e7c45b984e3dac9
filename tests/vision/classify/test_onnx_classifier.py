"""The ONNX crop classifier on synthetic models, and the project's committed mask model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brightwatch.vision.classify import load_classifier
from brightwatch.vision.detector import DetectorError
from brightwatch.vision.detector.spec import PROJECT_MODELS
from tests.vision.synthetic import constant_classifier

CROP = np.zeros((40, 30, 3), np.uint8)


def test_probabilities_pass_through_and_logits_are_softmaxed(tmp_path: Path) -> None:
    probs = load_classifier(str(constant_classifier(tmp_path / "p.onnx", [0.2, 0.8], ["a", "b"])))
    (verdict,) = probs.classify([CROP])
    assert (verdict.label, verdict.score) == ("b", pytest.approx(0.8))
    logits = load_classifier(str(constant_classifier(tmp_path / "l.onnx", [1.0, 3.0], ["a", "b"])))
    assert logits.classify([CROP])[0].score == pytest.approx(np.exp(3) / (np.exp(1) + np.exp(3)))
    assert logits.crop_expand == 1.5 and logits.input_size == (32, 32)


def test_batches_and_empty_crops(tmp_path: Path) -> None:
    model = load_classifier(
        str(constant_classifier(tmp_path / "p.onnx", [0.2, 0.8], ["a", "b"])), batch_size=3
    )
    verdicts = model.classify([CROP] * 7 + [np.zeros((0, 0, 3), np.uint8)])
    assert len(verdicts) == 8 and {v.label for v in verdicts} == {"b"}
    assert model.classify([]) == []


def test_a_detector_is_not_a_classifier(tmp_path: Path) -> None:
    from tests.vision.synthetic import constant_detector

    path = constant_detector(tmp_path / "d.onnx", [[1, 1, 1, 1, 0.5]], ["a"])
    with pytest.raises(DetectorError, match="not a classifier"):
        load_classifier(str(path))


def test_unknown_classifier_name(tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match="no classifier 'hat'"):
        load_classifier("hat", data_dir=tmp_path)


def test_the_committed_mask_classifier() -> None:
    path = PROJECT_MODELS / "mask_classifier.onnx"
    assert path.exists(), "models/mask_classifier.onnx is part of the repository"
    assert path.stat().st_size < 5_000_000
    model = load_classifier("mask")
    assert model.names == ("with_mask", "without_mask", "mask_weared_incorrect")
    assert model.crop_expand > 1.0
    assert model.crop_part == "lower"  # nose to chin: a cap never enters the crop


def test_the_mask_classifier_on_held_out_faces() -> None:
    """A handful of held-out faces of the CC0 set: the classifier gets most of them right."""
    from brightwatch.vision.training.classifier import collect_crops, render
    from brightwatch.vision.yoloset import open_set
    from tests.conftest import shared_path

    yset = open_set(shared_path("datasets", "face_mask"))
    model = load_classifier("mask")
    held = yset.split("val")[:25]
    crops = collect_crops(held, min_box=12)
    rendered = [
        render(crops, k, model.input_size[0], model.crop_expand, None, model.crop_part)
        for k in range(len(crops.classes))
    ]
    labels = [v.label for v in model.classify(rendered)]
    right = sum(yset.names[c] == label for c, label in zip(crops.classes, labels, strict=True))
    assert len(labels) >= 40
    assert right / len(labels) >= 0.8
