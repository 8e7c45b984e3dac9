"""PNG plots beside the evaluation JSON: precision-recall curves per class (IoU 0.5) and
the confusion matrix. matplotlib with the Agg backend (no display, no font download)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from brightwatch.vision.evaluation.metrics import Evaluation


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pr_curves(result: Evaluation, path: Path, title: str = "") -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5.5), dpi=110)
    for c in result.classes:
        if c.truths == 0:
            continue
        recall = np.r_[0.0, c.pr_recall] if c.pr_recall else np.array([0.0, 1.0])
        precision = np.r_[c.pr_precision[0] if c.pr_precision else 0.0, c.pr_precision]
        if not c.pr_recall:
            precision = np.array([0.0, 0.0])
        ax.plot(recall, precision, linewidth=1.5, label=f"{c.name} AP50 {c.ap50:.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.grid(alpha=0.3)
    ax.set_title(title or f"precision-recall (IoU 0.5), mAP50 {result.map50:.3f}")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def confusion_matrix(
    counts: np.ndarray, labels: Sequence[str], path: Path, title: str = "confusion matrix"
) -> Path:
    """Rows predicted, columns true; each column normalised (share of the true class),
    with the raw counts written in the cells."""
    plt = _pyplot()
    counts = np.asarray(counts)
    totals = counts.sum(0, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts, dtype=float), where=totals > 0)
    n = len(labels)
    size = max(4.5, 0.6 * n + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1, size), dpi=110)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                colour = "white" if shares[i, j] > 0.5 else "black"
                ax.text(
                    j, i, str(int(counts[i, j])), ha="center", va="center", color=colour, fontsize=8
                )
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
