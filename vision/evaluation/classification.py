"""Accuracy of an attribute classifier on labelled crops: accuracy, balanced accuracy,
precision / recall / F1 per class and a confusion matrix (rows predicted, columns true)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from brightwatch.vision.detector.base import AttributeClassifier


@dataclass
class ClassificationResult:
    names: tuple[str, ...]
    confusion: np.ndarray  # (nc, nc) rows predicted, columns true

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / self.total) if self.total else float("nan")

    def per_class(self) -> dict[str, dict[str, float]]:
        out = {}
        for k, name in enumerate(self.names):
            hits = self.confusion[k, k]
            predicted = self.confusion[k].sum()
            true = self.confusion[:, k].sum()
            p = hits / predicted if predicted else 0.0
            r = hits / true if true else float("nan")
            f1 = 2 * p * r / (p + r) if true and p + r > 0 else 0.0
            out[name] = {
                "support": int(true),
                "precision": float(p),
                "recall": float(r),
                "f1": float(f1),
            }
        return out

    @property
    def balanced_accuracy(self) -> float:
        recalls = [c["recall"] for c in self.per_class().values() if c["support"]]
        return float(np.mean(recalls)) if recalls else float("nan")

    @property
    def macro_f1(self) -> float:
        f1s = [c["f1"] for c in self.per_class().values() if c["support"]]
        return float(np.mean(f1s)) if f1s else float("nan")

    def summary(self) -> dict[str, object]:
        return {
            "crops": self.total,
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "macro_f1": self.macro_f1,
            "classes": self.per_class(),
            "confusion_matrix": {
                "rows_predicted_cols_true": list(self.names),
                "counts": self.confusion.astype(int).tolist(),
            },
        }


def tally(
    predicted: Sequence[int], true: Sequence[int], names: Sequence[str]
) -> ClassificationResult:
    nc = len(names)
    confusion = np.zeros((nc, nc), dtype=np.int64)
    np.add.at(confusion, (np.asarray(predicted, int), np.asarray(true, int)), 1)
    return ClassificationResult(tuple(names), confusion)


def evaluate_crops(
    classifier: AttributeClassifier,
    crops: Sequence[np.ndarray],
    classes: Sequence[int],
    names: Sequence[str],
) -> ClassificationResult:
    """Classifier labels are matched to `names` by name; a label outside them is an error."""
    verdicts = classifier.classify(list(crops))
    missing = sorted({v.label for v in verdicts} - set(names))
    if missing:
        raise ValueError(f"classifier labels not in the set: {', '.join(missing)}")
    index = {n: i for i, n in enumerate(names)}
    return tally([index[v.label] for v in verdicts], list(classes), names)
