"""Detection metrics as the COCO evaluation defines them, in numpy.

- Matching: per image and IoU threshold, detections in descending score order each take
  the unmatched ground-truth box of the same class with the highest IoU >= threshold.
- AP: precision made monotone (the envelope), sampled at 101 recall points 0, 0.01 .. 1
  (precision 0 where the recall is never reached), averaged. mAP50 is AP at IoU 0.5,
  mAP50-95 the mean over IoU 0.50, 0.55 .. 0.95; classes without ground truth are left
  out of the means (COCO marks them -1).
- Precision/recall per class at the operating threshold (the score the service alarms
  at), IoU 0.5, and a confusion matrix matched class-agnostically, one-to-one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from brightwatch.vision.boxes import iou_matrix

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True, slots=True)
class Boxes:
    """Boxes of one image, pixels x1 y1 x2 y2; `scores` is None for ground truth."""

    boxes: np.ndarray
    classes: np.ndarray
    scores: np.ndarray | None = None

    @staticmethod
    def of(
        boxes: Sequence[Sequence[float]],
        classes: Sequence[int],
        scores: Sequence[float] | None = None,
    ) -> Boxes:
        return Boxes(
            np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
            np.asarray(classes, dtype=np.int64).reshape(-1),
            None if scores is None else np.asarray(scores, dtype=np.float64).reshape(-1),
        )


def match(pred: Boxes, truth: Boxes, thresholds: np.ndarray = IOU_THRESHOLDS) -> np.ndarray:
    """(n_pred, n_thresholds) bool: whether each detection is a true positive."""
    assert pred.scores is not None
    n, t = len(pred.classes), len(thresholds)
    tp = np.zeros((n, t), dtype=bool)
    if n == 0 or len(truth.classes) == 0:
        return tp
    order = np.argsort(-pred.scores, kind="stable")
    ious = iou_matrix(pred.boxes, truth.boxes)
    same = pred.classes[:, None] == truth.classes[None, :]
    ious = np.where(same, ious, -1.0)
    for k, threshold in enumerate(thresholds):
        taken = np.zeros(len(truth.classes), dtype=bool)
        for i in order:
            candidates = np.where(taken, -1.0, ious[i])
            j = int(candidates.argmax())
            if candidates[j] >= threshold:
                taken[j] = True
                tp[i, k] = True
    return tp


def average_precision(
    tp: np.ndarray, scores: np.ndarray, n_truth: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """AP (101-point) of one class at one IoU threshold, with the recall and the
    monotone precision along the ranked detections."""
    if n_truth == 0:
        return float("nan"), np.zeros(0), np.zeros(0)
    order = np.argsort(-scores, kind="stable")
    hits = tp[order].astype(np.float64)
    cum_tp = np.cumsum(hits)
    cum_fp = np.cumsum(1.0 - hits)
    recall = cum_tp / n_truth
    precision = cum_tp / np.maximum(cum_tp + cum_fp, np.finfo(np.float64).eps)
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision
    idx = np.searchsorted(recall, RECALL_POINTS, side="left")
    sampled = np.array([envelope[i] if i < len(envelope) else 0.0 for i in idx])
    return float(sampled.mean()), recall, envelope


@dataclass
class ClassResult:
    name: str
    truths: int
    detections: int  # at or above the operating threshold
    ap50: float
    ap50_95: float
    precision: float  # at the operating threshold, IoU 0.5
    recall: float
    f1: float
    best_f1: float  # the best F1 along the ranked detections, and the score giving it
    best_f1_score: float
    pr_recall: list[float] = field(default_factory=list)  # IoU 0.5 curve, for the plots
    pr_precision: list[float] = field(default_factory=list)


@dataclass
class Evaluation:
    names: tuple[str, ...]
    images: int
    operating_score: float
    classes: list[ClassResult]
    confusion: np.ndarray  # (nc + 1, nc + 1): rows predicted, columns true; last = background

    def _mean(self, attr: str) -> float:
        values = [getattr(c, attr) for c in self.classes if c.truths > 0]
        return float(np.mean(values)) if values else float("nan")

    @property
    def map50(self) -> float:
        return self._mean("ap50")

    @property
    def map50_95(self) -> float:
        return self._mean("ap50_95")

    @property
    def precision(self) -> float:
        return self._mean("precision")

    @property
    def recall(self) -> float:
        return self._mean("recall")

    def summary(self) -> dict[str, object]:
        return {
            "images": self.images,
            "operating_score": self.operating_score,
            "mAP50": self.map50,
            "mAP50-95": self.map50_95,
            "precision": self.precision,
            "recall": self.recall,
            "classes": {
                c.name: {
                    "truths": c.truths,
                    "detections": c.detections,
                    "AP50": c.ap50,
                    "AP50-95": c.ap50_95,
                    "precision": c.precision,
                    "recall": c.recall,
                    "f1": c.f1,
                    "best_f1": c.best_f1,
                    "best_f1_score": c.best_f1_score,
                }
                for c in self.classes
            },
            "confusion_matrix": {
                "rows_predicted_cols_true": [*self.names, "background"],
                "counts": self.confusion.astype(int).tolist(),
            },
        }


class Accumulator:
    """Collects per-image results; `result()` computes the figures."""

    def __init__(
        self, names: Sequence[str], operating_score: float = 0.25, confusion_iou: float = 0.5
    ) -> None:
        self.names = tuple(names)
        self.operating_score = operating_score
        self.confusion_iou = confusion_iou
        nc = len(self.names)
        self._tp: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self._classes: list[np.ndarray] = []
        self._truths = np.zeros(nc, dtype=np.int64)
        self.confusion = np.zeros((nc + 1, nc + 1), dtype=np.int64)
        self.images = 0

    def add(self, pred: Boxes, truth: Boxes) -> None:
        assert pred.scores is not None
        nc = len(self.names)
        for arr in (pred.classes, truth.classes):
            if len(arr) and (arr.min() < 0 or arr.max() >= nc):
                raise ValueError(f"class id outside 0..{nc - 1}")
        self.images += 1
        self._tp.append(match(pred, truth))
        self._scores.append(pred.scores)
        self._classes.append(pred.classes)
        self._truths += np.bincount(truth.classes, minlength=nc)
        self._confuse(pred, truth)

    def _confuse(self, pred: Boxes, truth: Boxes) -> None:
        assert pred.scores is not None
        bg = len(self.names)
        keep = pred.scores >= self.operating_score
        p_boxes, p_cls = pred.boxes[keep], pred.classes[keep]
        ious = iou_matrix(p_boxes, truth.boxes)
        used_p = np.zeros(len(p_cls), dtype=bool)
        used_t = np.zeros(len(truth.classes), dtype=bool)
        if ious.size:
            pairs = np.argwhere(ious >= self.confusion_iou)
            order = np.argsort(-ious[pairs[:, 0], pairs[:, 1]], kind="stable")
            for i, j in pairs[order]:
                if not used_p[i] and not used_t[j]:
                    used_p[i] = used_t[j] = True
                    self.confusion[p_cls[i], truth.classes[j]] += 1
        for i in np.flatnonzero(~used_p):
            self.confusion[p_cls[i], bg] += 1
        for j in np.flatnonzero(~used_t):
            self.confusion[bg, truth.classes[j]] += 1

    def result(self) -> Evaluation:
        nc = len(self.names)
        tp = np.concatenate(self._tp) if self._tp else np.zeros((0, len(IOU_THRESHOLDS)), bool)
        scores = np.concatenate(self._scores) if self._scores else np.zeros(0)
        classes = np.concatenate(self._classes) if self._classes else np.zeros(0, np.int64)
        results = []
        for c in range(nc):
            mine = classes == c
            n_truth = int(self._truths[c])
            aps = []
            recall50 = precision50 = np.zeros(0)
            for k in range(len(IOU_THRESHOLDS)):
                ap, rec, prec = average_precision(tp[mine, k], scores[mine], n_truth)
                aps.append(ap)
                if k == 0:
                    recall50, precision50 = rec, prec
            at_op = mine & (scores >= self.operating_score)
            hits = int(tp[at_op, 0].sum())
            n_det = int(at_op.sum())
            p = hits / n_det if n_det else 0.0
            r = hits / n_truth if n_truth else float("nan")
            f1 = 2 * p * r / (p + r) if n_truth and (p + r) > 0 else 0.0
            best_f1, best_score = _best_f1(tp[mine, 0], scores[mine], n_truth)
            results.append(
                ClassResult(
                    name=self.names[c],
                    truths=n_truth,
                    detections=n_det,
                    ap50=aps[0],
                    ap50_95=float(np.mean(aps)) if n_truth else float("nan"),
                    precision=p,
                    recall=r,
                    f1=f1,
                    best_f1=best_f1,
                    best_f1_score=best_score,
                    pr_recall=recall50.tolist(),
                    pr_precision=precision50.tolist(),
                )
            )
        return Evaluation(
            self.names, self.images, self.operating_score, results, self.confusion.copy()
        )


def _best_f1(tp50: np.ndarray, scores: np.ndarray, n_truth: int) -> tuple[float, float]:
    if n_truth == 0 or len(scores) == 0:
        return 0.0, float("nan")
    order = np.argsort(-scores, kind="stable")
    cum_tp = np.cumsum(tp50[order])
    ranks = np.arange(1, len(order) + 1)
    f1 = 2 * cum_tp / (ranks + n_truth)
    best = int(f1.argmax())
    return float(f1[best]), float(scores[order][best])
