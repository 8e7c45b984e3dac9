"""The optional backend: anything ultralytics loads (`.pt`, and its ONNX / OpenVINO /
TensorRT exports), run by its own predictor. Imported lazily: without the extra the
service still runs ONNX models, and asking for this backend says how to install it."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from brightwatch.vision.detector.base import Detection, DetectorError
from brightwatch.vision.detector.metadata import file_version, names_from
from brightwatch.vision.detector.onnx_backend import min_score_table
from brightwatch.vision.ultralytics_env import UltralyticsMissing, import_ultralytics


def available() -> bool:
    """Whether the ultralytics extra is installed (`base.backend_available`)."""
    return importlib.util.find_spec("ultralytics") is not None


class UltralyticsDetector:
    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        conf: float = 0.25,
        iou: float = 0.45,
        class_scores: Mapping[str, float] | None = None,
        imgsz: int | None = None,
        device: str = "cpu",
        threads: int | None = None,
        names: Sequence[str] | None = None,
        max_det: int = 300,
        concurrency: int = 1,  # the caller's own threads: nothing to size here
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise DetectorError(f"no model at {self.path}")
        try:
            ul = import_ultralytics(f"the ultralytics backend ({self.path.name})")
        except UltralyticsMissing as exc:
            raise DetectorError(str(exc)) from None
        if threads:
            import torch

            torch.set_num_threads(threads)
        try:
            self.model = ul.YOLO(str(self.path), task="detect")
        except Exception as exc:  # ultralytics raises many types for unreadable models
            raise DetectorError(f"cannot load {self.path} with ultralytics: {exc}") from None
        self.names: Sequence[str] = tuple(names or names_from(self.model.names))
        self.name = name or self.path.stem
        self.version = file_version(self.path)
        self.device = "cuda:0" if device == "cuda" else "cpu"
        if device == "auto":
            import torch

            self.device = "cuda:0" if torch.cuda.is_available() else "cpu"
        self.imgsz = imgsz
        self.conf = conf
        self.iou = iou
        self.max_det = max_det
        self.class_scores = dict(class_scores or {})
        self._min_scores = min_score_table(self.names, conf, self.class_scores)

    def __repr__(self) -> str:
        return f"UltralyticsDetector({self.name}@{self.version}, {self.device})"

    def detect(self, image: np.ndarray, conf: float | None = None) -> list[Detection]:
        return self.detect_batch([image], conf)[0]

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        thresholds = (
            self._min_scores
            if conf is None
            else min_score_table(self.names, conf, self.class_scores)
        )
        kwargs: dict[str, object] = {
            "conf": float(thresholds.min()) if len(thresholds) else 0.25,
            "iou": self.iou,
            "max_det": self.max_det,
            "device": self.device,
            "verbose": False,
        }
        if self.imgsz:
            kwargs["imgsz"] = self.imgsz
        results = self.model.predict(list(images), **kwargs)
        out = []
        for result in results:
            boxes = result.boxes
            xyxy = boxes.xyxy.cpu().numpy()
            scores = boxes.conf.cpu().numpy()
            classes = boxes.cls.cpu().numpy().astype(int)
            found = []
            for (x1, y1, x2, y2), score, cls in zip(xyxy, scores, classes, strict=True):
                if score < thresholds[cls]:  # per-class minimum (kitchens.md)
                    continue
                found.append(
                    Detection(
                        label=self.names[cls],
                        score=float(score),
                        box=(float(x1), float(y1), float(x2), float(y2)),
                        class_id=int(cls),
                    )
                )
            out.append(found)
        return out
