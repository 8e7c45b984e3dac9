"""Ground-truth replay (type key `labels`): a folder of YOLO label files played back as
detections, one file per frame. For deterministic tests and for evaluating the rules
apart from the detector; never a default.

Frames are keyed by the first number in each file name (`frame_0042_src0044.txt` is frame
42). `detect()` returns the current frame's boxes and moves on by one; `seek(n)` jumps, so
a caller that skips frames (motion gating) keeps the replay in step by seeking to the
capture's frame index. Boxes are scaled to the size of the image passed in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from brightwatch.vision.detector.base import Detection, DetectorError
from brightwatch.vision.detector.metadata import file_version, names_from
from brightwatch.vision.yoloset import Labels, read_labels

log = logging.getLogger(__name__)

FRAME_NUMBER = re.compile(r"(\d+)")


def _names_near(folder: Path) -> tuple[str, ...]:
    """Names from a data.yaml or classes.txt in the folder or up to two levels above."""
    import yaml

    for parent in (folder, folder.parent, folder.parent.parent):
        data_yaml = parent / "data.yaml"
        if data_yaml.exists():
            data = yaml.safe_load(data_yaml.read_text()) or {}
            if "names" in data:
                return names_from(data["names"])
        classes = parent / "classes.txt"
        if classes.exists():
            return tuple(n.strip() for n in classes.read_text().splitlines() if n.strip())
    return ()


class LabelReplay:
    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        names: Sequence[str] | None = None,
        score: float = 1.0,
        conf: float = 0.0,
        **_ignored: object,  # detector options (iou, imgsz, ...) mean nothing here
    ) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise DetectorError(
                f"the labels backend needs a folder of YOLO .txt files: {self.path}"
            )
        self.frames: dict[int, Labels] = {}
        for file in sorted(self.path.glob("*.txt")):
            match = FRAME_NUMBER.search(file.stem)
            if match is None or file.name == "classes.txt":
                continue
            index = int(match.group(1))
            if index in self.frames:
                raise DetectorError(f"{file}: frame {index} appears twice in {self.path}")
            self.frames[index] = read_labels(file)
        if not self.frames:
            raise DetectorError(f"no numbered label files in {self.path}")
        top = max((int(lab.classes.max()) for lab in self.frames.values() if len(lab)), default=-1)
        self.names: Sequence[str] = tuple(names or _names_near(self.path))
        if not self.names:
            self.names = tuple(str(i) for i in range(top + 1))
            log.warning("%s: no class names (data.yaml/classes.txt); using ids", self.path)
        if top >= len(self.names):
            raise DetectorError(f"{self.path}: class id {top} but only {len(self.names)} names")
        self.name = name or self.path.name
        self.version = file_version(self.path)
        self.score = score
        self.frame = 0  # frame numbers count from the start of the video

    def seek(self, frame: int) -> None:
        self.frame = frame

    def detect(self, image: np.ndarray, conf: float | None = None) -> list[Detection]:
        found = self.detect_frame(self.frame, image)
        self.frame += 1
        return found

    def detect_frame(self, frame: int, image: np.ndarray) -> list[Detection]:
        labels = self.frames.get(frame)
        if labels is None or not len(labels):
            return []
        h, w = image.shape[:2]
        return [
            Detection(self.names[int(c)], self.score, tuple(float(v) for v in box), int(c))  # type: ignore[arg-type]
            for c, box in zip(labels.classes, labels.xyxy(w, h), strict=True)
        ]

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        return [self.detect(image) for image in images]
