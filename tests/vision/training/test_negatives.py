"""Negatives for detector training: only a set's training split, capped, deterministic,
filtered by class, darkened copies; joined to the prepared set with empty labels."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from brightwatch.vision.training.negatives import select_negatives
from brightwatch.vision.training.prepare import prepare_detector_set
from brightwatch.vision.yoloset import DatasetError, open_set
from tests.vision.synthetic import yolo_set


def people_set(root: Path, n: int = 20) -> Path:
    # class 0 "person" everywhere, class 1 "Fire" on every 4th picture
    images = {
        f"p{i:02d}.jpg": (48, 48, [(0, 0.5, 0.5, 0.3, 0.6)] + ([(1, 0.2, 0.2, 0.1, 0.1)] if i % 4 == 0 else []))
        for i in range(n)
    }  # fmt: skip
    return yolo_set(root, images, ["person", "Fire"])


def test_only_the_training_split_is_taken_and_classes_filter(tmp_path: Path) -> None:
    root = people_set(tmp_path / "people")
    yset = open_set(root)
    held = {i.image for i in yset.split("val")}
    picked = select_negatives([root], positives=100, ratio=1.0, dark_share=0.0)
    chosen = {n.image for n in picked}
    assert chosen == {i.image for i in yset.split("train")}  # all of train, none of val
    assert not chosen & held
    no_fire = select_negatives([root], 100, ratio=1.0, dark_share=0.0, skip_classes=["Fire"])
    assert {n.image.name for n in no_fire} == {
        i.image.name for i in yset.split("train") if 1 not in i.labels().classes
    }


def test_capped_interleaved_deterministic_with_dark_copies(tmp_path: Path) -> None:
    a = people_set(tmp_path / "a")
    b = tmp_path / "plain"
    b.mkdir()
    for i in range(10):
        cv2.imwrite(str(b / f"b{i}.jpg"), np.full((32, 32, 3), 200, np.uint8))
    picked = select_negatives([a, b], positives=20, ratio=0.5, dark_share=0.25)
    assert len(picked) == 10  # 0.5 x 20, darkened copies included
    dark = [n for n in picked if n.dark]
    base = [n for n in picked if not n.dark]
    assert len(dark) == 2 and {n.image for n in dark} <= {n.image for n in base}
    assert [n.source for n in base] == ["a", "plain"] * 4  # the sources in turn
    again = select_negatives([a, b], positives=20, ratio=0.5, dark_share=0.25)
    assert again == picked
    other_seed = select_negatives([a, b], positives=20, ratio=0.5, dark_share=0.25, seed=1)
    assert other_seed != picked
    # a glob works like a folder; the positives' own pictures are never negatives
    globbed = select_negatives([str(b / "b*.jpg")], 20, ratio=1.0, dark_share=0.0,
                               exclude=[b / "b0.jpg"])  # fmt: skip
    assert sorted(n.image.name for n in globbed) == [f"b{i}.jpg" for i in range(1, 10)]


def test_bad_sources_are_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no labelled set, folder or images"):
        select_negatives([str(tmp_path / "nothing*.jpg")], 10)
    with pytest.raises(DatasetError, match="ratio"):
        select_negatives([], 10, ratio=-1)


def test_prepared_set_gets_negatives_in_train_only(tmp_path: Path) -> None:
    rats = {f"r{i}.jpg": (64, 64, [(0, 0.5, 0.5, 0.2, 0.2)]) for i in range(10)}
    yset = open_set(yolo_set(tmp_path / "rats", rats, ["rat"]))
    bright = tmp_path / "bright"
    bright.mkdir()
    for i in range(4):
        cv2.imwrite(str(bright / f"n{i}.png"), np.full((32, 32, 3), 180, np.uint8))
    negatives = select_negatives([bright], positives=8, ratio=0.5, dark_share=0.5)
    prepared = prepare_detector_set(yset, tmp_path / "out", negatives=negatives)
    assert (prepared.train, prepared.val, prepared.negatives) == (8, 2, 4)
    train = tmp_path / "out" / "images" / "train"
    negs = sorted(p for p in train.iterdir() if p.name.startswith("neg"))
    assert len(negs) == 4 and len(list(train.iterdir())) == 12
    assert not any(
        p.name.startswith("neg") for p in (tmp_path / "out" / "images" / "val").iterdir()
    )
    for p in negs:
        label = tmp_path / "out" / "labels" / "train" / (p.stem + ".txt")
        assert label.exists() and label.read_text() == ""
    dark = [p for p in negs if "-dark-" in p.name]
    assert len(dark) == 2 and not any(p.is_symlink() for p in dark)
    assert all(p.is_symlink() for p in negs if p not in dark)
    assert cv2.imread(str(dark[0])).mean() < 0.6 * 180  # a night look: darker
    record = json.loads((tmp_path / "out" / "split.json").read_text())
    assert len(record["negatives"]) == 4 and sum(n["dark"] for n in record["negatives"]) == 2
