"""Central inference: frames -> objects (`vision.rules.Obj`) with the configured
detectors, batched, and the two-stage attribute classifiers on crops of those objects.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from brightwatch.vision.classify import load_classifier
from brightwatch.vision.detector import Detector, DetectorError, load_detector
from brightwatch.vision.detector.base import AttributeClassifier, Detection
from brightwatch.vision.health import sharpness
from brightwatch.vision.rules.config import AttributeRule
from brightwatch.vision.rules.observations import Attribute, Obj
from brightwatch.vision.rules.zones import region
from brightwatch.vision.settings import VisionSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Classifier:
    name: str
    rule: AttributeRule
    model: AttributeClassifier


class Inference:
    """The detectors and classifiers one worker runs; `run(images)` -> objects per image."""

    def __init__(
        self,
        detectors: Sequence[Detector],
        classifiers: Sequence[Classifier] = (),
        batch: int = 8,
        parallel: int = 1,
    ) -> None:
        self.detectors = list(detectors)
        self.classifiers = list(classifiers)
        self.batch = batch
        # ONNX Runtime releases the GIL: frames split over `parallel` threads, each session
        # run with one intra-op thread, use the cores better than one run with several
        # threads on a small network (measured: 20 ms CPU per 320 px frame either way, but
        # a second intra-op thread added no throughput)
        self.parallel = max(1, parallel)
        self._pool = (
            ThreadPoolExecutor(self.parallel, "bw-vision-infer") if self.parallel > 1 else None
        )

    @property
    def decode_size(self) -> int | None:
        """The longer side frames must keep for these models (None: decode in full):
        the detectors' input, twice that when crops are classified (heads stay sharp)."""
        sides = [getattr(d, "input_size", None) for d in self.detectors]
        if not sides or any(s is None for s in sides):
            return None
        needed = max(max(s) for s in sides if s is not None)
        return needed * 2 if self.classifiers else needed

    @property
    def models(self) -> list[str]:
        return [f"{d.name}@{d.version}" for d in self.detectors]

    def run(self, images: Sequence[np.ndarray]) -> list[list[Obj]]:
        """Objects per image, in order: every detector, then the crop classifiers."""
        found: list[list[Obj]] = [[] for _ in images]
        for det in self.detectors:
            tag = f"{det.name}@{det.version}"
            # a replay (`seek`) has a position: its frames go through it in order
            ordered = hasattr(det, "seek")
            for k, dets in enumerate(self._spread(partial(self._detect, det), images, ordered)):
                found[k] += [Obj(d.label, d.score, d.box, tag) for d in dets]
        if self.classifiers:
            pairs = list(zip(images, found, strict=True))
            found = self._spread(lambda part: [self._classify(i, o) for i, o in part], pairs)
        return found

    def _detect(self, det: Detector, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        out: list[list[Detection]] = []
        for start in range(0, len(images), self.batch):
            out += det.detect_batch(images[start : start + self.batch])
        return out

    def _spread(
        self, work: Callable[[Sequence[T]], list[R]], items: Sequence[T], ordered: bool = False
    ) -> list[R]:
        """`work` over `items` in up to `parallel` contiguous parts at once, results in order."""
        if self._pool is None or ordered or len(items) < 2:
            return work(items)
        step = -(-len(items) // self.parallel)
        parts = [items[i : i + step] for i in range(0, len(items), step)]
        return [r for part in self._pool.map(work, parts) for r in part]

    def _classify(self, image: np.ndarray, objs: list[Obj]) -> list[Obj]:
        h, w = image.shape[:2]
        out = list(objs)
        for c in self.classifiers:
            picks: list[int] = []
            crops: list[np.ndarray] = []
            for i, o in enumerate(out):
                if o.label != c.rule.on:
                    continue
                x1, y1, x2, y2 = (int(round(v)) for v in region(o.box, c.rule.region))
                x1, y1 = max(0, x1), max(0, y1)
                x2, y2 = min(w, x2), min(h, y2)
                if min(x2 - x1, y2 - y1) < c.rule.min_crop_px:
                    continue  # too small to judge
                crop = image[y1:y2, x1:x2]
                if c.rule.min_sharpness and (
                    sharpness(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)) < c.rule.min_sharpness
                ):
                    continue  # too blurred to judge
                picks.append(i)
                crops.append(crop)
            if not crops:
                continue
            for i, verdict in zip(picks, c.model.classify(crops), strict=True):
                o = out[i]
                out[i] = Obj(
                    o.label,
                    o.score,
                    o.box,
                    o.model,
                    (*o.attributes, Attribute(c.name, verdict.label, verdict.score)),
                )
        return out


def build(settings: VisionSettings, model: str, data_dir: Path) -> Inference:
    """BW_MODEL and `detectors`; attribute classifiers whose model can be found. A model
    that cannot be loaded is left out with a warning (the worker still handles edge
    detections, camera health and availability)."""
    parallel = settings.parallel or os.cpu_count() or 1
    threads = settings.threads
    if threads is None and parallel > 1:
        threads = 1  # one intra-op thread per parallel run
    detectors: list[Detector] = []
    for name in dict.fromkeys([model, *settings.detectors]):
        try:
            detectors.append(
                load_detector(name, models=settings.models, data_dir=data_dir, threads=threads)
            )
        except DetectorError as exc:
            log.warning("vision: detector %r not loaded: %s", name, exc)
    classifiers: list[Classifier] = []
    for name, rule in settings.attributes.items():
        if not rule.enabled:
            continue
        try:
            model_ = load_classifier(
                rule.classifier, models=settings.classifiers, data_dir=data_dir, threads=threads
            )
        except DetectorError as exc:
            log.warning("vision: classifier %r not loaded: %s", rule.classifier, exc)
            continue
        classifiers.append(Classifier(name, rule, model_))
    return Inference(detectors, classifiers, settings.infer_batch, parallel)
