"""The project's face detector (`models/face_detector.onnx`): the committed file and its
record, a short training through the CLI, and its search over tiles in the privacy filter
(`vision.privacy.TrainedFaces`)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from brightwatch.vision.detector import load_detector
from brightwatch.vision.privacy import TRAINED_MODEL, PrivacyUnavailable, TrainedFaces
from brightwatch.vision.yoloset import holdout_split, open_set
from tests.conftest import shared_path


def face_set() -> Path:
    return shared_path("datasets", "face_mask")


def test_the_committed_model_is_small_named_and_reproduces_its_record() -> None:
    """< 5 MB, one class `face`, and its AP50 on the held-out part of the face set (never
    trained on, the part the MTCNN privacy check uses) is what its .json says."""
    pytest.importorskip("torch")  # the scoring helper lives with the trainer
    from brightwatch.vision.training.face_detector import (
        CLASSES,
        HOLDOUT,
        OPERATING_SCORE,
        SEED,
    )
    from brightwatch.vision.training.flame import evaluate

    assert TRAINED_MODEL.is_file(), f"{TRAINED_MODEL} missing (brightwatch vision train face)"
    assert TRAINED_MODEL.stat().st_size < 5_000_000
    assert tuple(load_detector(str(TRAINED_MODEL)).names) == CLASSES
    record = json.loads(TRAINED_MODEL.with_suffix(".json").read_text())
    dataset = open_set(face_set())
    train, held_out = holdout_split(dataset.splits["train"], HOLDOUT, SEED)
    assert record["split"] == {"train": len(train), "held_out": len(held_out)}
    mapping = {i: 0 for i in range(len(dataset.names))}
    got = evaluate(TRAINED_MODEL, held_out, mapping, CLASSES, OPERATING_SCORE)
    want = record["variants"][record["shipped"]]["held_out"]
    assert got["classes"]["face"]["AP50"] == pytest.approx(
        want["classes"]["face"]["AP50"], abs=1e-6
    )
    assert want["classes"]["face"]["AP50"] > 0.5, want  # a face detector, not noise


def _held_out_face(min_side: int = 24) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A labelled face of the held-out part, cut out with some context, and its box there."""
    dataset = open_set(face_set())
    _, held_out = holdout_split(dataset.splits["train"], 0.2, 0)
    for item in held_out:
        image = cv2.imread(str(item.image))
        assert image is not None
        h, w = image.shape[:2]
        for x1, y1, x2, y2 in item.labels().xyxy(w, h).astype(int):
            inside = x1 > 40 and y1 > 40 and x2 + 40 < w and y2 + 40 < h
            if inside and min(x2 - x1, y2 - y1) >= min_side:
                crop = image[y1 - 40 : y2 + 40, x1 - 40 : x2 + 40]
                return crop, (40, 40, 40 + x2 - x1, 40 + y2 - y1)
    raise AssertionError("no face large enough in the held-out part")


def test_a_face_in_a_far_tile_of_a_large_picture_is_found_where_it_is() -> None:
    """A held-out face pasted at the far corner of a 1600 x 900 picture: found by the
    tile search (the whole picture shrunk to the model's input would make it too small)
    and reported in pixels of the whole picture."""
    crop, (fx1, fy1, fx2, fy2) = _held_out_face()
    picture = np.full((900, 1600, 3), 90, np.uint8)
    ox, oy = 1600 - crop.shape[1] - 30, 900 - crop.shape[0] - 20
    picture[oy : oy + crop.shape[0], ox : ox + crop.shape[1]] = crop
    faces = TrainedFaces(TRAINED_MODEL).detect(picture)
    want = np.array([fx1 + ox, fy1 + oy, fx2 + ox, fy2 + oy], float)
    hits = [f for f in faces if _iou(np.array(f.box), want) >= 0.3]
    assert hits, (want, [f.box for f in faces])
    # nothing on the plain grey rest of the picture
    assert all(f.box[0] >= ox - 50 and f.box[1] >= oy - 50 for f in faces), faces


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_a_missing_model_makes_privacy_unavailable(tmp_path: Path) -> None:
    with pytest.raises(PrivacyUnavailable, match="not found"):
        TrainedFaces(tmp_path / "face_detector.onnx")


def test_the_cli_trains_exports_and_records_a_face_detector(tmp_path: Path) -> None:
    """Six seconds of training on a tiny set in the face set's layout: an .onnx with class
    `face` and a .json with the split and the held-out figures (not their quality)."""
    pytest.importorskip("torch")
    from click.testing import CliRunner

    from brightwatch.cli import main

    (tmp_path / "data.yaml").write_text(
        "path: .\ntrain: images/train\nnames: [with_mask, without_mask]\n"
    )
    for sub in ("images/train", "labels/train"):
        (tmp_path / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k in range(10):
        picture = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / f"images/train/f{k}.jpg"), picture)
        (tmp_path / f"labels/train/f{k}.txt").write_text(f"{k % 2} 0.5 0.5 0.2 0.25\n")
    out = tmp_path / "face.onnx"
    args = ["vision", "train", "face", "--data", str(tmp_path), "--minutes", "0.1"]
    args += ["--output", str(out), "--checkpoint", str(tmp_path / "face.pt"), "--imgsz", "96"]
    args += ["--threads", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "held-out face: AP50" in result.output
    assert tuple(load_detector(str(out)).names) == ("face",)
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["split"] == {"train": 8, "held_out": 2}
    assert record["data_licence"] == "CC0-1.0" and record["shipped"] in ("int8", "fp32")
