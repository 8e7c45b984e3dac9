"""Reading YOLO-format sets and carving the held-out split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brightwatch.vision.yoloset import (
    DatasetError,
    LabelledImage,
    holdout_split,
    open_set,
    read_labels,
)
from tests.vision.synthetic import yolo_set


def items(n: int) -> list[LabelledImage]:
    return [LabelledImage(Path(f"img{i:03d}.jpg"), Path(f"img{i:03d}.txt")) for i in range(n)]


def test_holdout_is_deterministic_disjoint_and_sized() -> None:
    kept, held = holdout_split(items(100), 0.2, seed=0)
    assert len(held) == 20 and len(kept) == 80
    assert not {i.image for i in kept} & {i.image for i in held}
    again_kept, again_held = holdout_split(list(reversed(items(100))), 0.2, seed=0)
    assert again_held == held and again_kept == kept  # order of the input does not matter
    _, other = holdout_split(items(100), 0.2, seed=1)
    assert other != held


def test_holdout_is_stable_when_images_are_added() -> None:
    _, held = holdout_split(items(100), 0.2, seed=0)
    _, held_more = holdout_split(items(110), 0.2, seed=0)
    # ranking by hash: adding images moves at most the boundary, not the whole split
    assert len({i.image for i in held} & {i.image for i in held_more}) >= 18


def test_holdout_fraction_is_checked() -> None:
    with pytest.raises(DatasetError):
        holdout_split(items(10), 1.0, seed=0)


def test_open_set_carves_val_from_a_train_only_set(tmp_path: Path) -> None:
    images = {f"{i}.jpg": (32, 32, [(0, 0.5, 0.5, 0.2, 0.2)]) for i in range(10)}
    yset = open_set(yolo_set(tmp_path / "s", images, ["rat"]))
    assert yset.names == ("rat",) and yset.carves_holdout
    train, val = yset.split("train"), yset.split("val")
    assert (len(train), len(val)) == (8, 2)
    assert len(yset.split("all")) == 10
    assert len(val[0].labels()) == 1


def test_open_set_uses_a_val_folder_of_its_own(tmp_path: Path) -> None:
    root = yolo_set(tmp_path / "s", {"a.jpg": (32, 32, []), "b.jpg": (32, 32, [])}, ["x"])
    (root / "images" / "val").mkdir()
    (root / "images" / "train" / "b.jpg").rename(root / "images" / "val" / "b.jpg")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames: [x]\n")
    yset = open_set(root / "data.yaml")
    assert not yset.carves_holdout
    assert [i.image.name for i in yset.split("val")] == ["b.jpg"]
    assert yset.split("val")[0].label == root / "labels" / "val" / "b.txt"


def test_bare_folder_and_classes_txt(tmp_path: Path) -> None:
    root = yolo_set(tmp_path / "s", {"a.jpg": (32, 32, [(1, 0.5, 0.5, 0.2, 0.2)])}, ["x", "y"])
    (root / "data.yaml").unlink()
    assert open_set(root).names == ("0", "1")
    (root / "classes.txt").write_text("cat\nrat\n")
    assert open_set(root).names == ("cat", "rat")


def test_read_labels(tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_text("0 0.5 0.5 0.2 0.4\n\n1 0.1 0.1 0.1 0.1\n")
    labels = read_labels(path)
    assert labels.classes.tolist() == [0, 1]
    np.testing.assert_allclose(labels.xyxy(100, 50)[0], [40, 15, 60, 35])
    assert len(read_labels(tmp_path / "absent.txt")) == 0
    path.write_text("2 0.1 0.1 0.3 0.1 0.3 0.4\n")  # a polygon: its bounding box
    np.testing.assert_allclose(read_labels(path).xywhn[0], [0.2, 0.25, 0.2, 0.3])


@pytest.mark.parametrize(
    "line", ["0 0.5 0.5 0.2", "x 0.5 0.5 0.2 0.2", "-1 0.5 0.5 0.2 0.2", "0.5 0.5 0.5 0.2 0.2"]
)
def test_bad_label_lines_name_the_file_and_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("0 0.5 0.5 0.1 0.1\n" + line + "\n")
    with pytest.raises(DatasetError, match="bad.txt:2"):
        read_labels(path)


def test_missing_set(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no data.yaml and no images"):
        open_set(tmp_path)
