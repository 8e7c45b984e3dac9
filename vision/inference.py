"""Central inference: frames -> objects (`vision.rules.Obj`) with the configured
detectors, batched, and the two-stage attribute classifiers on crops of those objects.

Each frame comes with its camera's input policy (`vision.tiles`): with `auto` a frame
taller than 2.25 model inputs (above 720p for a 320 px model, above 1440p for the 640 px
default) is seen as overlapping tiles plus the whole frame, so small staff are seen at
about twice the size a single shrunk frame gives. Attribute classifiers that judge
a face (`region = "face"`, the mask) get the face found in each person's search area at
full resolution (`vision.heads`), and answer `unknown` when no face can be judged; those
that judge the head (a hat) get the head above that face, else the top of the person.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from brightwatch.vision import tiles
from brightwatch.vision.classify import load_classifier
from brightwatch.vision.classify.crops import expand_box, face_part
from brightwatch.vision.detector import Detector, DetectorError, load_detector
from brightwatch.vision.detector.base import AttributeClassifier, Detection
from brightwatch.vision.heads import FACE_THRESHOLD, Head, HeadFinder
from brightwatch.vision.health import sharpness
from brightwatch.vision.privacy import BlazeFace, PrivacyUnavailable, find_face_model
from brightwatch.vision.rules.config import AttributeRule
from brightwatch.vision.rules.observations import Attribute, Obj
from brightwatch.vision.rules.zones import Box, region
from brightwatch.vision.settings import VisionSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

# the verdict of a classifier that had nothing to judge (no face, too small, too blurred)
UNKNOWN = "unknown"


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
        heads: HeadFinder | None = None,
        input_policy: tiles.InputPolicy = "auto",
    ) -> None:
        self.detectors = list(detectors)
        self.classifiers = list(classifiers)
        self.batch = batch
        self.heads = heads
        self.input_policy = input_policy
        # ONNX Runtime releases the GIL: frames split over `parallel` threads, each session
        # run with one intra-op thread, use the cores better than one run with several
        # threads on a small network (measured: 20 ms CPU per 320 px frame either way, but
        # a second intra-op thread added no throughput)
        self.parallel = max(1, parallel)
        self._pool = (
            ThreadPoolExecutor(self.parallel, "bw-vision-infer") if self.parallel > 1 else None
        )

    def close(self) -> None:
        """End the parallel runs' threads once their work is done (no wait)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def decode_size(self) -> int | None:
        """The longer side frames must keep for these models (None: decode in full):
        the detectors' input, twice that when crops are classified; in full when faces
        are searched or frames may be tiled (both need the camera's own pixels)."""
        if self.heads is not None or self.input_policy != "full":
            return None
        sides = [getattr(d, "input_size", None) for d in self.detectors]
        if not sides or any(s is None for s in sides):
            return None
        needed = max(max(s) for s in sides if s is not None)
        return needed * 2 if self.classifiers else needed

    @property
    def models(self) -> list[str]:
        return [f"{d.name}@{d.version}" for d in self.detectors]

    def run(
        self, images: Sequence[np.ndarray], policies: Sequence[str] | None = None
    ) -> list[list[Obj]]:
        """Objects per image, in order: every detector, then the crop classifiers.
        `policies`: each image's camera input policy (default: the fleet's)."""
        found: list[list[Obj]] = [[] for _ in images]
        chosen = list(policies) if policies is not None else [self.input_policy] * len(images)
        framed = list(zip(images, chosen, strict=True))
        for det in self.detectors:
            tag = f"{det.name}@{det.version}"
            # a replay (`seek`) has a position: its frames go through it in order (whole)
            ordered = hasattr(det, "seek")
            work = partial(self._detect, det) if ordered else partial(self._detect_framed, det)
            items: Sequence[Any] = images if ordered else framed
            for k, dets in enumerate(self._spread(work, items, ordered)):
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

    def _detect_framed(
        self, det: Detector, framed: Sequence[tuple[np.ndarray, str]]
    ) -> list[list[Detection]]:
        """Each frame whole, or as tiles plus the whole frame (merged) by its policy."""
        crops: list[np.ndarray] = []
        owner: list[tuple[int, tiles.Window]] = []
        split: list[bool] = []
        for k, (image, policy) in enumerate(framed):
            h, w = image.shape[:2]
            split.append(tiles.tiled(policy, w, h, max(getattr(det, "input_size", (0,))) or None))
            for win in tiles.windows(w, h) if split[k] else [(0, 0, w, h)]:
                crops.append(image[win[1] : win[3], win[0] : win[2]])
                owner.append((k, win))
        parts: list[list[Detection]] = [[] for _ in framed]
        for dets, (k, win) in zip(self._detect(det, crops), owner, strict=True):
            h, w = framed[k][0].shape[:2]
            parts[k] += [
                Detection(d.label, d.score, tiles.offset(d.box, win), d.class_id)
                for d in dets
                if not (split[k] and tiles.cut(d.box, win, w, h))
            ]
        out: list[list[Detection]] = []
        for k, dets in enumerate(parts):
            if not split[k] or len(dets) < 2:
                out.append(dets)
                continue
            labels = sorted({d.label for d in dets})
            kept = tiles.merge(
                np.array([d.box for d in dets], dtype=np.float64),
                np.array([d.score for d in dets], dtype=np.float64),
                np.array([labels.index(d.label) for d in dets]),
            )
            out.append([dets[i] for i in kept])
        return out

    def map(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """`work` on each of `items` on the parallel runs' threads, results in order (for
        work that releases the GIL, such as decoding the frames)."""
        return self._spread(lambda part: [work(item) for item in part], items)

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
        heads: dict[int, Head] = {}
        if self.heads is not None:
            wanted = {c.rule.on for c in self.classifiers if c.rule.region in ("face", "head")}
            picked = [i for i, o in enumerate(out) if o.label in wanted]
            found = self.heads.find(image, [out[i].box for i in picked])
            heads = dict(zip(picked, found, strict=True))
        for c in self.classifiers:
            picks: list[int] = []
            crops: list[np.ndarray] = []
            judged_area: dict[int, Box] = {}  # recorded with the verdict (review export)
            unknown: list[int] = []
            for i, o in enumerate(out):
                if o.label != c.rule.on:
                    continue
                cut = self._crop(image, o.box, heads.get(i), c, w, h)
                if cut is None:
                    unknown.append(i)
                    continue
                picks.append(i)
                crops.append(cut[0])
                judged_area[i] = cut[1]
            verdicts = c.model.classify(crops) if crops else []
            judged = [(i, v.label, v.score) for i, v in zip(picks, verdicts, strict=True)]
            for i, label, score in judged + [(i, UNKNOWN, 0.0) for i in unknown]:
                o = out[i]
                out[i] = Obj(
                    o.label,
                    o.score,
                    o.box,
                    o.model,
                    (*o.attributes, Attribute(c.name, label, score, judged_area.get(i))),
                )
        return out

    def _crop(
        self, image: np.ndarray, box: Box, head: Head | None, c: Classifier, w: int, h: int
    ) -> tuple[np.ndarray, Box] | None:
        """What classifier `c` judges of an object and where (frame pixels), or None:
        nothing to judge (no face seen, a crop too small or too blurred)."""
        part = c.rule.region
        if part == "face":
            if head is None or head.face is None:
                return None  # the back of a head, a face turned away or too small
            expand = float(getattr(c.model, "crop_expand", 1.0))
            face = face_part(head.face, str(getattr(c.model, "crop_part", "whole")))
            x1, y1, x2, y2 = expand_box(face, expand, w, h)  # as the classifier trained
        else:
            area = head.head if part == "head" and head is not None else region(box, part)
            x1, y1, x2, y2 = (int(round(v)) for v in area)
            x1, y1 = max(0, x1), max(0, y1)
            x2, y2 = min(w, x2), min(h, y2)
        if min(x2 - x1, y2 - y1) < c.rule.min_crop_px:
            return None
        crop = image[y1:y2, x1:x2]
        if c.rule.min_sharpness and (
            sharpness(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)) < c.rule.min_sharpness
        ):
            return None
        return crop, (float(x1), float(y1), float(x2), float(y2))


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
                load_detector(
                    name,
                    models=settings.models,
                    data_dir=data_dir,
                    threads=threads,
                    concurrency=parallel,
                )
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
    return Inference(
        detectors,
        classifiers,
        settings.infer_batch,
        parallel,
        heads=head_finder(classifiers, data_dir, parallel),
        input_policy=settings.input,
    )


def head_finder(
    classifiers: Sequence[Classifier], data_dir: Path, parallel: int = 1
) -> HeadFinder | None:
    """The face search the classifiers need (None when none judges a face or a head), on
    OpenVINO with a stream per parallel run (ONNX Runtime where OpenVINO cannot compile
    it). Without a face model a face classifier answers `unknown` for every person: it
    never invents compliance, but it finds nothing either, and says so in the log."""
    if not any(c.rule.region in ("face", "head") for c in classifiers):
        return None
    try:
        model = find_face_model(None, data_dir)
    except PrivacyUnavailable as exc:
        log.warning(
            "vision: no face model (%s): mask and other face verdicts are all 'unknown'"
            " until `brightwatch models install` puts it in place",
            exc,
        )
        return None
    try:
        face = BlazeFace(
            model, threshold=FACE_THRESHOLD, tiles=False, runtime="openvino", streams=parallel
        )
    except (ImportError, RuntimeError) as exc:  # no openvino wheel, or it cannot compile it
        log.warning("vision: face search on ONNX Runtime (OpenVINO: %s)", exc)
        face = BlazeFace(model, threshold=FACE_THRESHOLD, tiles=False)
    return HeadFinder(face)
