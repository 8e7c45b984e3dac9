"""Running a detector (optionally followed by an attribute classifier) over labelled
images or a labelled video, feeding the metrics.

The model's class names are matched to the set's by name (after `class_map` renames,
e.g. `mouse=rat`); detections of classes the set does not label are ignored, and a model
sharing no class with the set is an error, not a silent zero.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from brightwatch.vision.classify.crops import crop_boxes
from brightwatch.vision.detector.base import AttributeClassifier, Detection, Detector
from brightwatch.vision.evaluation.metrics import Accumulator, Boxes, Evaluation
from brightwatch.vision.yoloset import EMPTY_LABELS, LabelledImage, Labels, read_labels

log = logging.getLogger(__name__)

EVAL_MIN_SCORE = 0.001  # keep (almost) every detection: AP integrates over all scores


class EvaluationError(ValueError):
    pass


@dataclass(frozen=True)
class Sample:
    key: str
    image: np.ndarray
    truth: Labels


def images_of(items: Sequence[LabelledImage]) -> Iterator[Sample]:
    for item in items:
        image = cv2.imread(str(item.image), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("skipping unreadable image %s", item.image)
            continue
        yield Sample(item.image.name, image, item.labels())


def video_frames(video: Path, labels: Path, *, every: int = 1) -> Iterator[Sample]:
    """Frames of `video` with the label file of the same frame number (`frame_0042...txt`
    is frame 42; a frame without a file has no objects)."""
    from brightwatch.vision.detector.labels_backend import FRAME_NUMBER

    by_frame: dict[int, Path] = {}
    for label_file in labels.glob("*.txt"):
        found = FRAME_NUMBER.search(label_file.stem)
        if found:
            by_frame[int(found.group(1))] = label_file
    if not by_frame:
        raise EvaluationError(f"no numbered label files in {labels}")
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise EvaluationError(f"cannot open video {video}")
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                path = by_frame.get(index)
                truth = read_labels(path) if path is not None else EMPTY_LABELS
                yield Sample(f"frame {index}", frame, truth)
            index += 1
    finally:
        capture.release()


def merge_classes(samples: Iterable[Sample]) -> Iterator[Sample]:
    """Every ground-truth class folded into class 0: a single-class detector (faces from
    the face-mask set) judged on finding the objects at all."""
    for sample in samples:
        truth = Labels(np.zeros_like(sample.truth.classes), sample.truth.xywhn)
        yield Sample(sample.key, sample.image, truth)


def class_index(
    model_names: Sequence[str], set_names: Sequence[str], class_map: Mapping[str, str]
) -> dict[str, int]:
    """Model class name -> set class id, for the classes they share."""
    wanted = {name: i for i, name in enumerate(set_names)}
    index = {}
    for name in model_names:
        target = class_map.get(name, name)
        if target in wanted:
            index[name] = wanted[target]
    if not index:
        raise EvaluationError(
            "the model and the labelled set share no class: model has "
            f"{', '.join(model_names[:12])}{' ...' if len(model_names) > 12 else ''}; "
            f"set has {', '.join(set_names)} (use a class map such as mouse=rat)"
        )
    return index


@dataclass
class RunStats:
    seconds: float = 0.0
    frames: int = 0

    @property
    def ms_per_frame(self) -> float:
        return 1000 * self.seconds / self.frames if self.frames else float("nan")


def evaluate(
    samples: Iterable[Sample],
    detector: Detector,
    set_names: Sequence[str],
    *,
    classifier: AttributeClassifier | None = None,
    classify_label: str | None = None,
    crop_expand: float = 1.0,
    class_map: Mapping[str, str] | None = None,
    operating_score: float = 0.25,
    total: int | None = None,
    batch: int = 8,
    progress: bool = True,
) -> tuple[Evaluation, RunStats]:
    """Detector alone, or detector + classifier: each box of `classify_label` (all boxes
    when None) is cropped, classified, and takes the classifier's label with score
    detector score x classifier score (the two-stage pattern of kitchens.md)."""
    mapping = dict(class_map or {})
    names_in = list(classifier.names) if classifier is not None else list(detector.names)
    index = class_index(names_in, set_names, mapping)
    acc = Accumulator(set_names, operating_score)
    stats = RunStats()
    pending: list[Sample] = []

    def flush() -> None:
        started = time.perf_counter()
        found = detector.detect_batch([s.image for s in pending], EVAL_MIN_SCORE)
        if classifier is not None:
            found = [
                _second_stage(s.image, dets, classifier, classify_label, crop_expand)
                for s, dets in zip(pending, found, strict=True)
            ]
        stats.seconds += time.perf_counter() - started
        stats.frames += len(pending)
        for sample, dets in zip(pending, found, strict=True):
            h, w = sample.image.shape[:2]
            kept = [d for d in dets if d.label in index]
            pred = Boxes.of(
                [d.box for d in kept], [index[d.label] for d in kept], [d.score for d in kept]
            )
            truth = Boxes(sample.truth.xyxy(w, h), sample.truth.classes)
            if len(truth.classes) and truth.classes.max() >= len(set_names):
                raise EvaluationError(
                    f"{sample.key}: class id {int(truth.classes.max())} but the set names "
                    f"only {len(set_names)} classes"
                )
            acc.add(pred, truth)
        pending.clear()

    for sample in tqdm(samples, total=total, unit="img", disable=not progress, desc="eval"):
        pending.append(sample)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    if acc.images == 0:
        raise EvaluationError("nothing to evaluate: no readable images")
    return acc.result(), stats


def _second_stage(
    image: np.ndarray,
    detections: list[Detection],
    classifier: AttributeClassifier,
    only: str | None,
    expand: float,
) -> list[Detection]:
    chosen = [d for d in detections if only is None or d.label == only]
    if not chosen:
        return []
    verdicts = classifier.classify(crop_boxes(image, [d.box for d in chosen], expand=expand))
    return [
        Detection(v.label, d.score * v.score, d.box, classifier.names.index(v.label))
        for d, v in zip(chosen, verdicts, strict=True)
    ]
