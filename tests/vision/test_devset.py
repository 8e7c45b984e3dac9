"""The kitchen dev set: the committed labels (schema, splits), the CCTV-like variants
moving boxes with the picture, and the recipe rebuilding the same bytes every time."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from brightwatch.vision.evaluation import devset
from brightwatch.vision.evaluation.devset import (
    DEFAULT_LABELS,
    DevSetError,
    DevSetUnavailable,
    LabelledFrame,
    Person,
    load_labels,
    transform_labels,
)
from brightwatch.vision.evaluation.variants import VARIANTS, move_box, variant
from tests.conftest import shared_path


def test_the_committed_labels_are_valid_and_split_by_source() -> None:
    doc = load_labels(DEFAULT_LABELS)
    splits = {f.split for f in doc.frames}
    assert splits == {"dev", "holdout"}
    dev = {f.source for f in doc.frames if f.split == "dev"}
    held = {f.source for f in doc.frames if f.split == "holdout"}
    assert not dev & held
    share = len([f for f in doc.frames if f.split == "holdout"]) / len(doc.frames)
    assert 0.2 <= share <= 0.4
    persons = [p for f in doc.frames for p in f.persons if not p.ignore]
    assert len(persons) >= 50
    # a face box only where a face was seen, and an attribute judged only with it
    for p in persons:
        if p.face is None:
            assert p.mask == "unknown"
    assert {p.mask for p in persons} == {"with_mask", "without_mask", "unknown"}
    assert {p.hat for p in persons} == {"hat", "no_hat", "unknown"}


def _labels_file(tmp_path: Path, frames: list[dict[str, object]]) -> Path:
    doc = json.loads(DEFAULT_LABELS.read_text())
    doc["frames"] = frames
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(doc))
    return path


PERSON = {
    "box": [10, 10, 50, 90],
    "head": [20, 10, 40, 30],
    "face": [22, 15, 38, 30],
    "mask": "without_mask",
    "hat": "hat",
    "staff": True,
}


def _frame(id: str, group: str, split: str, **extra: object) -> dict[str, object]:
    return {
        "id": id,
        "source": f"media/{id}.jpg",
        "group": group,
        "split": split,
        "persons": [PERSON],
        "objects": [],
        **extra,
    }


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([_frame("a", "g", "dev"), _frame("b", "g", "holdout")], "in both dev and holdout"),
        ([_frame("a", "g", "dev"), _frame("a", "h", "dev")], "unique"),
        ([_frame("a", "g", "test")], "split"),
        ([_frame("a", "g", "dev", persons=[{**PERSON, "mask": "maybe"}])], "mask"),
        (
            [_frame("a", "g", "dev", persons=[{k: v for k, v in PERSON.items() if k != "hat"}])],
            "hat",
        ),
        ([_frame("a", "g", "dev", persons=[{**PERSON, "box": [50, 10, 10, 90]}])], "x1 < x2"),
        ([{**_frame("a", "g", "dev"), "source": "media/video/x.mp4"}], "needs `frame`"),
    ],
)
def test_malformed_labels_are_refused_with_the_reason(
    tmp_path: Path, frames: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(DevSetError, match="labels.json") as caught:
        load_labels(_labels_file(tmp_path, frames))
    assert message in str(caught.value)


def _white_box(image: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) > 127)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


SIZES = [(320, 200), (1600, 900)]
CASES = [(v.name, size) for v in VARIANTS for size in SIZES if v.applies(*size)]


def test_full_hd_is_made_of_small_pictures_only() -> None:
    assert [size for name, size in CASES if name == "fullhd"] == [(320, 200)]


@pytest.mark.parametrize(("name", "size"), CASES)
def test_each_variant_moves_a_box_where_the_pixels_went(name: str, size: tuple[int, int]) -> None:
    w, h = size
    v = variant(name)
    image = np.zeros((h, w, 3), np.uint8)
    box = (w * 0.55, h * 0.2, w * 0.8, h * 0.9)
    cv2.rectangle(
        image, (int(box[0]), int(box[1])), (int(box[2]) - 1, int(box[3]) - 1), (255, 255, 255), -1
    )
    out, matrix = v.make(image)
    moved, kept = move_box(box, matrix, out.shape[1], out.shape[0])
    assert moved is not None and kept == pytest.approx(1.0)
    # blur smears the edges by half its kernel; the others are exact to a pixel or two
    tolerance = 6 if name == "motion_blur" else 2.5
    assert np.allclose(_white_box(out), moved, atol=tolerance), (name, moved)
    if name in ("half", "high_angle", "fullhd"):
        assert not np.allclose(moved, box, atol=3), "the geometry must change the box"


def test_labels_cut_by_the_frame_become_ignore_or_unknown() -> None:
    frame = LabelledFrame.model_validate(
        _frame(
            "a",
            "g",
            "dev",
            persons=[
                PERSON,
                {
                    **PERSON,
                    "box": [60, 10, 98, 90],
                    "head": [80, 10, 98, 30],
                    "face": [90, 15, 98, 30],
                },
            ],
            objects=[{"label": "rat", "box": [10, 80, 80, 99]}],
        )
    )
    # shift everything 70 px left in a 100 x 100 frame
    shift = np.array([[1.0, 0, -70], [0, 1.0, 0], [0, 0, 1.0]])
    persons, objects, _ = transform_labels(frame, shift, 100, 100)
    first, second = persons
    assert first.ignore and first.face is None and first.mask == "unknown"
    assert not second.ignore and second.box == [0.0, 10.0, 28.0, 90.0]
    assert second.face == [20.0, 15.0, 28.0, 30.0] and second.mask == "without_mask"
    assert objects == ()  # 10 of the rat box's 70 px left: dropped
    persons, objects, _ = transform_labels(frame, np.eye(3), 100, 100)
    assert persons == tuple(
        Person.model_validate(p)
        for p in (frame.persons[0].model_dump(), frame.persons[1].model_dump())
    )
    assert [o.label for o in objects] == ["rat"]


def test_a_tiny_person_after_downscaling_is_ignored() -> None:
    frame = LabelledFrame.model_validate(
        _frame("a", "g", "dev", persons=[{**PERSON, "box": [10, 10, 30, 40]}])
    )
    (person,), _, _ = transform_labels(frame, np.diag([0.5, 0.5, 1.0]), 50, 50)
    assert person.ignore and person.box == [5.0, 5.0, 15.0, 20.0]


def test_the_recipe_rebuilds_the_same_bytes(tmp_path: Path) -> None:
    """Wall time about 2 s: one photo and one video frame, every variant, twice."""
    shared = shared_path()
    only = ["chefcostume_3", "cctv_0150"]
    first = devset.build(shared, tmp_path / "one", only=only)
    second = devset.build(shared, tmp_path / "two", only=only)
    assert [f.id for f in first] == [f.id for f in second]
    assert {f.variant for f in first} == {v.name for v in VARIANTS}
    for a, b in zip(first, second, strict=True):
        assert a.image.read_bytes() == b.image.read_bytes()
        assert (a.persons, a.objects, a.width, a.height) == (
            b.persons,
            b.objects,
            b.width,
            b.height,
        )
        image = cv2.imread(str(a.image))
        assert image.shape[:2] == (a.height, a.width)
    full_hd = next(f for f in first if f.id == "cctv_0150__fullhd")
    assert (full_hd.width, full_hd.height) == (1920, 1080)
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert [f["id"] for f in manifest["frames"]] == [f.id for f in first]


def test_missing_shared_media_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DevSetUnavailable, match="not found"):
        devset.build(tmp_path / "no-shared", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DevSetUnavailable, match="source of dev set frame"):
        devset.build(tmp_path / "empty", tmp_path / "out", only=["chefcostume_3"])
    with pytest.raises(DevSetError, match="no such dev set frame: nope"):
        devset.build(tmp_path / "empty", tmp_path / "out", only=["nope"])
