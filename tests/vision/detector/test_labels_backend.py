"""Ground-truth replay (type key `labels`)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from brightwatch.vision.detector import DetectorError, load_detector
from brightwatch.vision.detector.labels_backend import LabelReplay

FRAME = np.zeros((100, 200, 3), np.uint8)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_replays_frame_by_frame_and_seeks(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "labels",
        {
            "frame_0001_src0003.txt": "0 0.5 0.5 0.2 0.4\n",
            "frame_0002_src0004.txt": "",
            "classes.txt": "rat\n",
        },
    )
    replay = load_detector(str(folder), backend="labels")
    assert replay.names == ("rat",)
    assert replay.detect(FRAME) == []  # frame 0: no file
    (det,) = replay.detect(FRAME)  # frame 1
    assert det.label == "rat" and det.score == 1.0
    assert det.box == pytest.approx((80, 30, 120, 70))
    assert replay.detect(FRAME) == []  # frame 2: empty file
    assert isinstance(replay, LabelReplay)
    replay.seek(1)
    assert len(replay.detect_batch([FRAME, FRAME])[0]) == 1


def test_names_from_a_data_yaml_above(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("names: [cat, rat]\n")
    folder = write(tmp_path / "labels" / "train", {"0007.txt": "1 0.5 0.5 0.1 0.1\n"})
    replay = LabelReplay(folder)
    assert replay.detect_frame(7, FRAME)[0].label == "rat"


def test_without_names_class_ids_are_used_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write(tmp_path / "l", {"f1.txt": "2 0.5 0.5 0.1 0.1\n"})
    with caplog.at_level(logging.WARNING):
        replay = LabelReplay(folder)
    assert replay.names == ("0", "1", "2") and "no class names" in caplog.text


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match="folder"):
        LabelReplay(tmp_path / "absent")
    with pytest.raises(DetectorError, match="no numbered"):
        LabelReplay(write(tmp_path / "empty", {"notes.txt": ""}))
    with pytest.raises(DetectorError, match="appears twice"):
        LabelReplay(write(tmp_path / "dup", {"f1.txt": "", "g001.txt": ""}))
    with pytest.raises(DetectorError, match="class id 3"):
        LabelReplay(write(tmp_path / "few", {"f1.txt": "3 .5 .5 .1 .1\n"}), names=["rat"])
