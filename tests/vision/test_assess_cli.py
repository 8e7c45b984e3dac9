"""`brightwatch vision assess` as a user runs it: one JSON object per frame with the
persons, their attributes (`unknown` when nothing can be judged), other objects and
the codes the frame counts towards."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from tests.conftest import shared_path
from tests.vision.synthetic import constant_detector
from tests.vision.test_cli import bw

KEYS = {"source", "width", "height", "persons", "objects", "candidates"}


def test_json_lines_per_frame_with_unknown_mask_when_no_face(tmp_path: Path) -> None:
    # a person and a phone on its upper body, on a textured picture with no face in it
    model = constant_detector(
        tmp_path / "m.onnx",
        [[160, 160, 100, 240, 0.9, 0.0], [160, 120, 20, 30, 0.0, 0.8]],
        ["person", "cell phone"],
    )
    pictures = tmp_path / "pics"
    pictures.mkdir()
    texture = np.random.default_rng(0).integers(40, 220, (320, 320, 3), dtype=np.uint8)
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(pictures / name), texture)
    done = bw("assess", str(pictures), "--model", str(model), "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    frames = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(frames) == 2
    for frame in frames:
        assert set(frame) == KEYS
        assert (frame["width"], frame["height"]) == (320, 320)
        (person,) = frame["persons"]
        assert person["attributes"] == {"mask": "unknown"}
        assert [o["label"] for o in frame["objects"]] == ["cell phone"]
        assert frame["candidates"] == ["PHONE"]
    # a uniform picture counts towards CAMERA_OBSTRUCTED (the frame health of the rules)
    cv2.imwrite(str(pictures / "a.jpg"), np.full((320, 320, 3), 128, np.uint8))
    done = bw("assess", str(pictures / "a.jpg"), "--model", str(model), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mask=unknown" in done.stdout and "CAMERA_OBSTRUCTED, PHONE" in done.stdout


def test_refuses_a_bad_camera_and_missing_pictures(tmp_path: Path) -> None:
    done = bw("assess", str(tmp_path), "--camera", "nocamera", tmp_path=tmp_path)
    assert done.returncode != 0 and "SITE/CAMERA" in done.stderr
    done = bw("assess", str(tmp_path / "absent.jpg"), tmp_path=tmp_path)
    assert done.returncode != 0 and "does not exist" in done.stderr


def test_the_shipped_pipeline_on_a_kitchen_photo(tmp_path: Path) -> None:
    shared_path("models", "coco")
    photo = shared_path("media", "kitchen", "kavyakhurana_difficult_image_01.jpeg")
    done = bw("assess", str(photo), "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    (frame,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert (frame["width"], frame["height"]) == (1600, 872)
    assert frame["persons"], "the COCO detector finds the staff of this photo"
    labels = {p["attributes"]["mask"] for p in frame["persons"]}
    assert labels <= {"with_mask", "without_mask", "mask_weared_incorrect", "unknown"}
