"""An evaluation from model to report folder, as `brightwatch vision eval` runs it: the
attribute classifier alone on the set's own boxes, or the detector (optionally followed by
the classifier, the two-stage pattern) on the images. The caller loads the models (they
depend on settings) and opens the source (`sources`); each job writes metrics.json and its
plots (`report`) into `out`, by default runs/eval/<model>-<source>."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from brightwatch.vision.evaluation import report
from brightwatch.vision.evaluation.classification import ClassificationResult, evaluate_crops
from brightwatch.vision.evaluation.metrics import Evaluation
from brightwatch.vision.evaluation.runner import EvaluationError, RunStats, evaluate
from brightwatch.vision.evaluation.sources import LabelledSource
from brightwatch.vision.training.classifier import collect_crops, render

if TYPE_CHECKING:
    from brightwatch.vision.classify import OnnxAttributeClassifier
    from brightwatch.vision.detector.base import Detector

RUNS = Path("runs/eval")


@dataclass(frozen=True)
class ClassifierReport:
    result: ClassificationResult
    paths: dict[str, Path]  # json, confusion_matrix


@dataclass(frozen=True)
class DetectorReport:
    result: Evaluation
    stats: RunStats
    paths: dict[str, Path]  # json, pr_curves, confusion_matrix


def evaluate_classifier_alone(
    classifier: OnnxAttributeClassifier,
    source: LabelledSource,
    *,
    crop_expand: float | None = None,
    class_map: Mapping[str, str] | None = None,
    out: Path | None = None,
) -> ClassifierReport:
    """Each labelled box of the set, cropped as training crops it, is classified; the
    box's class is the truth. Raises ValueError (EvaluationError for classes the set does
    not have) and DatasetError."""
    if source.images is None:
        raise EvaluationError("the classifier alone is judged on a set's boxes, not a video")
    expand = crop_expand or classifier.crop_expand
    crops = collect_crops(source.images, min_box=1)
    rendered = [
        render(crops, k, classifier.input_size[0], expand, None) for k in range(len(crops.classes))
    ]
    mapping = dict(class_map or {})
    mapped = [mapping.get(n, n) for n in classifier.names]
    if set(mapped) - set(source.names):
        raise EvaluationError(
            f"classifier classes {classifier.names} are not all in the set's {source.names}"
        )
    result = evaluate_crops(classifier, rendered, crops.classes.tolist(), source.names)
    about = {
        "classifier": f"{classifier.name}@{classifier.version}",
        "crop_expand": expand,
        **source.about,
    }
    paths = report.write_classification(
        result, out or RUNS / f"{classifier.name}-{source.label}", about
    )
    return ClassifierReport(result, paths)


def evaluate_detector(
    detector: Detector,
    source: LabelledSource,
    *,
    classifier: OnnxAttributeClassifier | None = None,
    classify_label: str | None = None,
    crop_expand: float | None = None,
    class_map: Mapping[str, str] | None = None,
    operating_score: float = 0.25,
    out: Path | None = None,
) -> DetectorReport:
    """The detector over the source's samples; with `classifier`, its boxes (of
    `classify_label` only, when given) are relabelled by it. Raises EvaluationError and
    DatasetError."""
    mapping = dict(class_map or {})
    expand = crop_expand or (classifier.crop_expand if classifier else 1.0)
    result, stats = evaluate(
        source.samples,
        detector,
        source.names,
        classifier=classifier,
        classify_label=classify_label,
        crop_expand=expand,
        class_map=mapping,
        operating_score=operating_score,
        total=source.total,
    )
    model_label = detector.name + (f"+{classifier.name}" if classifier else "")
    about = {
        "model": f"{detector.name}@{detector.version}",
        "classifier": f"{classifier.name}@{classifier.version}" if classifier else None,
        "crop_expand": expand if classifier else None,
        "class_map": mapping,
        **source.about,
    }
    paths = report.write_detection(
        result, stats, out or RUNS / f"{model_label}-{source.label}", about
    )
    return DetectorReport(result, stats, paths)
