"""Writing an evaluation out: `metrics.json`, `pr_curves.png`, `confusion_matrix.png`,
and the table printed on the terminal."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from brightwatch.vision.evaluation.classification import ClassificationResult
from brightwatch.vision.evaluation.metrics import Evaluation
from brightwatch.vision.evaluation.plots import confusion_matrix, pr_curves
from brightwatch.vision.evaluation.runner import RunStats


def _clean(value: Any) -> Any:
    """NaN (a class without ground truth) becomes null in the JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _fmt(value: float) -> str:
    return "   -  " if math.isnan(value) else f"{value:6.3f}"


def detection_table(result: Evaluation) -> str:
    lines = [
        f"{'class':<24}{'truths':>7}{'dets':>7}  {'AP50':>6}  {'AP50-95':>7}  "
        f"{'P':>6}  {'R':>6}  {'F1':>6}",
    ]
    for c in result.classes:
        lines.append(
            f"{c.name:<24}{c.truths:>7}{c.detections:>7}  {_fmt(c.ap50)}  {_fmt(c.ap50_95):>7}  "
            f"{_fmt(c.precision)}  {_fmt(c.recall)}  {_fmt(c.f1)}"
        )
    lines.append(
        f"{'all (mean)':<24}{sum(c.truths for c in result.classes):>7}"
        f"{sum(c.detections for c in result.classes):>7}  {_fmt(result.map50)}  "
        f"{_fmt(result.map50_95):>7}  {_fmt(result.precision)}  {_fmt(result.recall)}"
    )
    lines.append(f"images {result.images}; P/R/F1 at score >= {result.operating_score:g}, IoU 0.5")
    return "\n".join(lines)


def write_detection(
    result: Evaluation, stats: RunStats, out_dir: Path, about: dict[str, Any]
) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "metrics.json",
        "pr_curves": out_dir / "pr_curves.png",
        "confusion_matrix": out_dir / "confusion_matrix.png",
    }
    label = " + ".join(str(about[k]) for k in ("model", "classifier") if about.get(k))
    pr_curves(result, paths["pr_curves"], title=f"{label}: precision-recall (IoU 0.5)")
    confusion_matrix(
        result.confusion,
        [*result.names, "background"],
        paths["confusion_matrix"],
        title=f"confusion matrix (score >= {result.operating_score:g}, IoU 0.5)",
    )
    body = {
        **about,
        **result.summary(),
        "ms_per_frame": stats.ms_per_frame,
        "files": {k: p.name for k, p in paths.items()},
    }
    paths["json"].write_text(json.dumps(_clean(body), indent=2))
    return paths


def classification_table(result: ClassificationResult) -> str:
    lines = [f"{'class':<24}{'support':>8}  {'P':>6}  {'R':>6}  {'F1':>6}"]
    for name, c in result.per_class().items():
        lines.append(
            f"{name:<24}{c['support']:>8}  {_fmt(c['precision'])}  {_fmt(c['recall'])}  {_fmt(c['f1'])}"
        )
    lines.append(
        f"crops {result.total}: accuracy {result.accuracy:.3f}, balanced accuracy "
        f"{result.balanced_accuracy:.3f}, macro F1 {result.macro_f1:.3f}"
    )
    return "\n".join(lines)


def write_classification(
    result: ClassificationResult, out_dir: Path, about: dict[str, Any]
) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "metrics.json", "confusion_matrix": out_dir / "confusion_matrix.png"}
    confusion_matrix(result.confusion, list(result.names), paths["confusion_matrix"])
    body = {**about, **result.summary(), "files": {k: p.name for k, p in paths.items()}}
    paths["json"].write_text(json.dumps(_clean(body), indent=2))
    return paths
