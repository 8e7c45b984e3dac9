from __future__ import annotations

import json
from pathlib import Path

import yaml

from brightwatch.vision.training.prepare import prepare_detector_set
from brightwatch.vision.yoloset import open_set, read_labels
from tests.vision.synthetic import yolo_set


def test_prepared_copy_links_images_and_merges_classes(tmp_path: Path) -> None:
    images = {f"{i}.jpg": (32, 32, [(i % 3, 0.5, 0.5, 0.2, 0.2)]) for i in range(10)}
    yset = open_set(yolo_set(tmp_path / "src", images, ["with_mask", "without_mask", "incorrect"]))
    prepared = prepare_detector_set(yset, tmp_path / "out", single_class="face")
    assert (prepared.names, prepared.train, prepared.val) == (("face",), 8, 2)
    data = yaml.safe_load(prepared.data_yaml.read_text())
    assert data["names"] == {0: "face"}
    linked = sorted((tmp_path / "out" / "images" / "val").iterdir())
    assert all(p.is_symlink() for p in linked)
    assert [p.name for p in linked] == [i.image.name for i in yset.split("val")]
    for label in (tmp_path / "out" / "labels").rglob("*.txt"):
        assert read_labels(label).classes.tolist() == [0]
    split = json.loads((tmp_path / "out" / "split.json").read_text())
    assert split["val_images"] == [p.name for p in linked] and split["seed"] == 0


def test_classes_are_kept_without_merge(tmp_path: Path) -> None:
    images = {f"{i}.jpg": (32, 32, [(1, 0.5, 0.5, 0.2, 0.2)]) for i in range(5)}
    yset = open_set(yolo_set(tmp_path / "src", images, ["a", "b"]))
    prepare_detector_set(yset, tmp_path / "out")
    labels = list((tmp_path / "out" / "labels" / "train").glob("*.txt"))
    assert labels and all(read_labels(p).classes.tolist() == [1] for p in labels)
