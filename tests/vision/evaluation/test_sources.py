"""Opening what an evaluation runs over: a labelled set's split or a labelled video."""

from __future__ import annotations

from pathlib import Path

import pytest

from brightwatch.vision.evaluation.sources import open_labelled_set, open_labelled_video
from brightwatch.vision.yoloset import DatasetError
from tests.vision.synthetic import labelled_video, yolo_set


def test_a_set_names_its_classes_split_and_origin(tmp_path: Path) -> None:
    root = yolo_set(
        tmp_path / "masks",
        {
            "a.jpg": (64, 64, [(0, 0.5, 0.5, 0.2, 0.2)]),
            "b.jpg": (64, 64, [(1, 0.5, 0.5, 0.2, 0.2)]),
            "c.jpg": (64, 64, []),
        },
        ["with_mask", "without_mask"],
    )
    source = open_labelled_set(root, split="all", holdout=0.2, seed=3, limit=2)
    assert source.names == ["with_mask", "without_mask"]
    assert source.total == 2 and source.images is not None and len(source.images) == 2
    assert source.label == "masks-all"
    assert source.about == {"data": str(root.resolve()), "split": "all", "holdout": 0.2, "seed": 3}
    assert len(list(source.samples)) == 2


def test_single_class_folds_every_class_into_one(tmp_path: Path) -> None:
    root = yolo_set(
        tmp_path / "masks",
        {"a.jpg": (64, 64, [(0, 0.3, 0.3, 0.2, 0.2), (2, 0.7, 0.7, 0.2, 0.2)])},
        ["with_mask", "without_mask", "mask_weared_incorrect"],
    )
    source = open_labelled_set(root, split="all", holdout=0.2, seed=0, single_class="face")
    assert source.names == ["face"] and source.label == "masks-all-face"
    (sample,) = source.samples
    assert sample.truth.classes.tolist() == [0, 0]


def test_a_set_that_cannot_be_read_is_a_dataset_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError):
        open_labelled_set(tmp_path / "empty", split="val", holdout=0.2, seed=0)


def test_a_video_takes_the_given_names_and_stops_at_the_limit(tmp_path: Path) -> None:
    video, labels = labelled_video(tmp_path, [[(0, 0.5, 0.5, 0.2, 0.2)]] * 4)
    source = open_labelled_video(video, labels, ["rat"], limit=3)
    assert source.names == ["rat"] and source.total == 3 and source.images is None
    assert source.label == "clip"
    assert source.about == {"video": str(video), "labels": str(labels)}
    assert [s.key for s in source.samples] == ["frame 0", "frame 1", "frame 2"]
