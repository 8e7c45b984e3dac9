"""Scoring the deployed per-frame pipeline (`vision assess`) on the labelled dev set:
what `brightwatch vision eval --pipeline` reports.

Per person: predicted persons are matched to labelled ones (IoU >= 0.5, greedily by
score); a labelled person marked `ignore`, or an `ignore_region`, absorbs predictions
without counting either way. On matched persons each attribute (mask, hat) gets a
confusion table (truth x answer), precision and recall of its violation class, the
"unknown" rate and the count of invented compliance (a violator judged compliant).
Per code: frame-level precision and recall of the assessment's `candidates` against the
codes the labels imply (`implied_codes`, the mapping written once below).

An assessment is the dict `vision assess --json` prints per frame: `{"source", "width",
"height", "persons": [{"box", "score", "attributes": {"mask", "hat"}}], "objects":
[{"label", "score", "box"}], "candidates": [...]}`; a missing attribute is "unknown".

May import: numpy, cv2, brightwatch.vision.evaluation (devset, pipeline_report).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from brightwatch.vision.evaluation.devset import DevFrame, LabelledObject, Person
from brightwatch.vision.rules import zones
from brightwatch.vision.rules.zones import Box

IOU_MATCH = 0.5
# A predicted person lying mostly inside an ignore region (a crowd, a hand) is neutral.
IGNORE_REGION_SHARE = 0.5
ATTRIBUTES = ("mask", "hat")
UNKNOWN = "unknown"
# Answers a model may give, mapped to the dev set's vocabulary (kitchens.md: NO_MASK
# counts `without_mask` and `mask_weared_incorrect`; NO_HAT a `no_helmet`-like class).
ANSWERS: dict[str, dict[str, str]] = {
    "mask": {
        "with_mask": "with_mask",
        "without_mask": "without_mask",
        "mask_weared_incorrect": "without_mask",
        UNKNOWN: UNKNOWN,
    },
    "hat": {
        "hat": "hat",
        "helmet": "hat",
        "no_hat": "no_hat",
        "no_helmet": "no_hat",
        UNKNOWN: UNKNOWN,
    },
}
VIOLATION = {"mask": "without_mask", "hat": "no_hat"}
COMPLIANT = {"mask": "with_mask", "hat": "hat"}
ATTRIBUTE_CODE = {"mask": "NO_MASK", "hat": "NO_HAT"}
# The codes a labelled frame can imply; any other candidate (zones, schedules, camera
# health) needs configuration a single frame does not carry and is only counted.
SCORED_CODES = ("NO_MASK", "NO_HAT", "PHONE", "SMOKING", "RODENT", "FIRE_UNATTENDED")
RODENT_LABELS = frozenset({"rat", "mouse"})
FLAME_LABELS = frozenset({"fire", "flame"})


class PipelineEvalError(ValueError):
    """An assessment that does not have the `vision assess` shape."""


def _b(v: Sequence[float]) -> Box:
    return (v[0], v[1], v[2], v[3])


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """The rules' IoU (`vision.rules.zones.iou`) on labelled or assessed boxes."""
    return zones.iou(_b(a), _b(b))


def _touches(inner: Sequence[float], outer: Sequence[float]) -> bool:
    return zones.overlap_fraction(_b(inner), _b(outer)) > 0


def implied_codes(persons: Iterable[Person], objects: Iterable[LabelledObject]) -> set[str]:
    """The codes a labelled frame implies, for every person the camera sees (the rules
    cannot tell staff from customers, so neither does the scoring):
    NO_MASK   a counted person whose mask truth is without_mask;
    NO_HAT    a counted person whose hat truth is no_hat;
    PHONE     a `cell phone` box overlapping a counted person's box;
    SMOKING   a `cigarette` box overlapping a counted person's head box;
    RODENT    a `rat` (or `mouse`) box;
    FIRE_UNATTENDED  a flame (`fire`) box and no counted person in the frame (one frame
              has no stove zone and no time: nobody in view stands for nobody there).
    """
    counted = [p for p in persons if not p.ignore]
    objects = list(objects)
    codes: set[str] = set()
    if any(p.mask == "without_mask" for p in counted):
        codes.add("NO_MASK")
    if any(p.hat == "no_hat" for p in counted):
        codes.add("NO_HAT")
    for obj in objects:
        if obj.label == "cell phone" and any(_touches(obj.box, p.box) for p in counted):
            codes.add("PHONE")
        if obj.label == "cigarette" and any(
            p.head is not None and _touches(obj.box, p.head) for p in counted
        ):
            codes.add("SMOKING")
        if obj.label in RODENT_LABELS:
            codes.add("RODENT")
        if obj.label in FLAME_LABELS and not counted:
            codes.add("FIRE_UNATTENDED")
    return codes


def _box(value: Any, where: str) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise PipelineEvalError(f"{where}: a box is [x1, y1, x2, y2], got {value!r}")
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        raise PipelineEvalError(f"{where}: a box holds numbers, got {value!r}") from None


def _answers(person: Mapping[str, Any], where: str) -> dict[str, str]:
    raw = person.get("attributes") or {}
    if not isinstance(raw, Mapping):
        raise PipelineEvalError(f"{where}: attributes must be a mapping, got {raw!r}")
    out = {}
    for name in ATTRIBUTES:
        answer = raw.get(name, UNKNOWN)
        if answer not in ANSWERS[name]:
            known = ", ".join(ANSWERS[name])
            raise PipelineEvalError(f"{where}: {name} answer {answer!r} is not one of {known}")
        out[name] = ANSWERS[name][answer]
    return out


@dataclass(frozen=True)
class PredictedPerson:
    box: list[float]
    score: float
    answers: dict[str, str]


def read_assessment(found: Mapping[str, Any]) -> tuple[list[PredictedPerson], set[str]]:
    """The persons and candidate codes of one `vision assess` answer, checked."""
    where = str(found.get("source", "assessment"))
    for key in ("persons", "objects", "candidates"):
        if not isinstance(found.get(key), list):
            raise PipelineEvalError(f"{where}: `{key}` must be a list")
    persons = []
    for i, p in enumerate(found["persons"]):
        spot = f"{where} person {i}"
        if not isinstance(p, Mapping):
            raise PipelineEvalError(f"{spot}: expected an object, got {p!r}")
        score = p.get("score")
        if not isinstance(score, int | float):
            raise PipelineEvalError(f"{spot}: `score` must be a number, got {score!r}")
        persons.append(PredictedPerson(_box(p.get("box"), spot), float(score), _answers(p, spot)))
    return persons, {str(c) for c in found["candidates"]}


@dataclass
class FrameMatch:
    """Which labelled person each prediction matched (None: a false person; -1: neutral)."""

    pairs: list[tuple[PredictedPerson, Person]] = field(default_factory=list)
    false_persons: list[PredictedPerson] = field(default_factory=list)
    missed: list[Person] = field(default_factory=list)
    neutral: int = 0


def match_persons(
    predicted: Sequence[PredictedPerson],
    truths: Sequence[Person],
    ignore_regions: Sequence[Sequence[float]] = (),
) -> FrameMatch:
    """Greedy by score: each prediction takes the unmatched counted person it overlaps
    most (IoU >= 0.5); failing that, an `ignore` person or region absorbs it."""
    out = FrameMatch()
    counted = [t for t in truths if not t.ignore]
    ignored = [t for t in truths if t.ignore]
    taken = [False] * len(counted)
    for pred in sorted(predicted, key=lambda p: -p.score):
        best, best_iou = -1, IOU_MATCH
        for i, truth in enumerate(counted):
            if not taken[i]:
                value = iou(pred.box, truth.box)
                if value >= best_iou:
                    best, best_iou = i, value
        if best >= 0:
            taken[best] = True
            out.pairs.append((pred, counted[best]))
        elif any(iou(pred.box, t.box) >= IOU_MATCH for t in ignored) or any(
            zones.overlap_fraction(_b(pred.box), _b(region)) >= IGNORE_REGION_SHARE
            for region in ignore_regions
        ):
            out.neutral += 1
        else:
            out.false_persons.append(pred)
    out.missed = [t for t, hit in zip(counted, taken, strict=True) if not hit]
    return out


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


@dataclass
class AttributeTally:
    """Counts behind one attribute's figures (see `figures`)."""

    name: str
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    violators: int = 0  # counted persons whose truth is the violation, detected or not
    flagged_false_persons: int = 0  # violation answers on persons that do not exist

    def figures(self) -> dict[str, Any]:
        """precision: violation answers that are right, among those on detected persons
        whose truth is known, plus those on false persons; answers on truth-unknown
        persons cannot be checked and are counted apart (`unverifiable`). recall: labelled
        violators answered with the violation (a missed person or an `unknown` answer is
        a miss); `recall_detected` only over detected violators. unknown_rate: the share
        of detected persons answered unknown (not a precision error)."""
        bad, good = VIOLATION[self.name], COMPLIANT[self.name]
        c = self.confusion
        hits = c[(bad, bad)]
        wrong = c[(good, bad)] + self.flagged_false_persons
        matched = sum(c.values())
        detected_violators = sum(c[(bad, a)] for a in (good, bad, UNKNOWN))
        return {
            "precision": _ratio(hits, hits + wrong),
            "recall": _ratio(hits, self.violators),
            "recall_detected": _ratio(hits, detected_violators),
            "unknown_rate": _ratio(sum(c[(t, UNKNOWN)] for t in (good, bad, UNKNOWN)), matched),
            "invented_compliance": c[(bad, good)],
            "false_violations": c[(good, bad)],
            "violation_answers_on_false_persons": self.flagged_false_persons,
            "unverifiable": c[(UNKNOWN, bad)] + c[(UNKNOWN, good)],
            "violators": self.violators,
            "matched_persons": matched,
            "confusion": {
                truth: {a: c[(truth, a)] for a in (good, bad, UNKNOWN)}
                for truth in (good, bad, UNKNOWN)
            },
        }


@dataclass
class CodeTally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def figures(self) -> dict[str, Any]:
        return {
            "precision": _ratio(self.tp, self.tp + self.fp),
            "recall": _ratio(self.tp, self.tp + self.fn),
            "frames_with_code": self.tp + self.fn,
            "frames_raised": self.tp + self.fp,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class Tally:
    """Everything counted over a group of frames."""

    frames: int = 0
    persons: int = 0  # counted (not ignore) labelled persons
    detected: int = 0
    false_persons: int = 0
    neutral: int = 0
    staff: int = 0
    staff_detected: int = 0
    attributes: dict[str, AttributeTally] = field(
        default_factory=lambda: {a: AttributeTally(a) for a in ATTRIBUTES}
    )
    codes: dict[str, CodeTally] = field(
        default_factory=lambda: {c: CodeTally() for c in SCORED_CODES}
    )
    unscored_codes: Counter[str] = field(default_factory=Counter)

    def add(self, frame: DevFrame, found: Mapping[str, Any]) -> None:
        predicted, raised = read_assessment(found)
        m = match_persons(predicted, frame.persons, frame.ignore_regions)
        self.frames += 1
        counted = [p for p in frame.persons if not p.ignore]
        self.persons += len(counted)
        self.detected += len(m.pairs)
        self.false_persons += len(m.false_persons)
        self.neutral += m.neutral
        self.staff += sum(p.staff for p in counted)
        self.staff_detected += sum(t.staff for _, t in m.pairs)
        for name, tally in self.attributes.items():
            tally.violators += sum(getattr(p, name) == VIOLATION[name] for p in counted)
            for pred, truth in m.pairs:
                tally.confusion[(getattr(truth, name), pred.answers[name])] += 1
            tally.flagged_false_persons += sum(
                p.answers[name] == VIOLATION[name] for p in m.false_persons
            )
        truth_codes = implied_codes(frame.persons, frame.objects)
        for code, tally_code in self.codes.items():
            if code in raised and code in truth_codes:
                tally_code.tp += 1
            elif code in raised:
                tally_code.fp += 1
            elif code in truth_codes:
                tally_code.fn += 1
        self.unscored_codes.update(c for c in raised if c not in self.codes)

    def figures(self) -> dict[str, Any]:
        attributes = {name: t.figures() for name, t in self.attributes.items()}
        codes = {code: t.figures() for code, t in self.codes.items()}
        for name, code in ATTRIBUTE_CODE.items():
            codes[code]["unknown_rate"] = attributes[name]["unknown_rate"]
        return {
            "frames": self.frames,
            "persons": {
                "labelled": self.persons,
                "detected": self.detected,
                "false": self.false_persons,
                "neutral": self.neutral,
                "recall": _ratio(self.detected, self.persons),
                "precision": _ratio(self.detected, self.detected + self.false_persons),
                "staff_recall": _ratio(self.staff_detected, self.staff),
            },
            "attributes": attributes,
            "codes": codes,
            "unscored_codes": dict(sorted(self.unscored_codes.items())),
        }


def score(frames: Sequence[DevFrame], assessments: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The report over all frames, per split and per variant (JSON-ready; NaN where a
    figure has nothing to count)."""
    if len(frames) != len(assessments):
        raise PipelineEvalError(f"{len(frames)} frames but {len(assessments)} assessments")
    everything = Tally()
    by_split: dict[str, Tally] = defaultdict(Tally)
    by_variant: dict[str, Tally] = defaultdict(Tally)
    for frame, found in zip(frames, assessments, strict=True):
        for tally in (everything, by_split[frame.split], by_variant[frame.variant]):
            tally.add(frame, found)
    return {
        "all": everything.figures(),
        "split": {k: by_split[k].figures() for k in sorted(by_split)},
        "variant": {k: by_variant[k].figures() for k in by_variant},
    }


Assess = Callable[[np.ndarray, str], Mapping[str, Any]]


def assess_frames(frames: Sequence[DevFrame], assess: Assess) -> list[Mapping[str, Any]]:
    """Run an assessor (`FrameAssessor.assess` or any callable of that shape) on each
    built frame, read back from its file as a camera frame would arrive."""
    import cv2

    out = []
    for frame in frames:
        image = cv2.imread(str(frame.image), cv2.IMREAD_COLOR)
        if image is None:
            raise PipelineEvalError(f"{frame.image}: cannot read the built frame")
        out.append(assess(image, frame.id))
    return out


@dataclass(frozen=True)
class PipelineEvaluation:
    report: dict[str, Any]
    frames: list[DevFrame]
    paths: dict[str, Path]


def evaluate_pipeline(
    assess: Assess, shared: Path, labels: Path, out: Path, split: str = "dev"
) -> PipelineEvaluation:
    """Build the dev set from `shared` into `out`, run `assess` on the frames of `split`
    (dev, holdout or all), score it and write `pipeline.json` and the plots to `out`."""
    from brightwatch.vision.evaluation import pipeline_report
    from brightwatch.vision.evaluation.devset import build

    if split not in ("dev", "holdout", "all"):
        raise PipelineEvalError(f"split is dev, holdout or all, not {split!r}")
    frames = [f for f in build(shared, out, labels) if split in ("all", f.split)]
    report = score(frames, assess_frames(frames, assess))
    meta = {"labels": str(labels), "evaluated_split": split, "frames_built": str(out / "frames")}
    return PipelineEvaluation(report, frames, pipeline_report.write(report, out, meta))
