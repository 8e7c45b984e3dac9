"""What a review decision says about the boxes of one evidence picture, as training
labels (pure; `export` writes them).

An evidence record holds the boxes that raised its code (`boxes`) and, since migration
0109, every object the detectors saw in the frame (`context`). A box whose label came
from a crop classifier names its `classifier` (and the `crop` it judged): its label is a
verdict on an object, never a detector class.

Detector labels:
- confirmed: every object of the frame (the context);
- dismissed: the context less the disputed boxes: those of `boxes` that raised the code
  (same label, IoU >= 0.5). A dismissal says "no violation", not "nothing here": the
  persons and other objects the alert did not dispute stay labelled. Person boxes are
  never disputed (no code says "this is not a person": STRANGER disputes where and when,
  not who is there); a reviewer who sees no person corrects the boxes instead;
- dismissed with the reviewer's corrected boxes: the undisputed context plus the
  corrections (a context box the reviewer re-drew gives way to the correction);
- a record without context (older evidence): as before migration 0109: confirmed ->
  `boxes`, dismissed -> the corrections or nothing (the whole picture is background),
  flagged by `with_context` False.

Classifier verdicts become classification crops labelled with the reviewer's verdict:
confirmed -> the classifier's label (`without_mask`); dismissed -> `not_<label>`
(`not_without_mask`; dismissing `not_X` gives `X`). A dismissal says the verdict was
wrong, not which other label is right (the face may be masked, half-masked or not
judgeable), so no other class is guessed; a classifier trained on such a set answers
`not_without_mask`, which the attribute rule maps to no code.

May import: the standard library.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Box = tuple[float, float, float, float]
# boxes of one object: same label and at least this intersection over union
SAME_OBJECT_IOU = 0.5
DISMISSED_PREFIX = "not_"


@dataclass(frozen=True)
class Verdict:
    """A crop classifier's verdict on an object, as the reviewer decided it."""

    classifier: str
    said: str  # the classifier's label
    label: str  # what the crop is exported as
    crop: Box | None  # the region the classifier judged (None: not recorded)


@dataclass(frozen=True)
class Labelling:
    boxes: list[dict[str, Any]]  # detector-class boxes, `{"label", "box"}` in pixels
    verdicts: list[Verdict]
    from_context: int  # of `boxes`, how many came from the frame's context
    disputed: int  # context boxes left out as the dismissed detection
    with_context: bool  # False: an older record, labelled as before


def is_verdict(box: Mapping[str, Any]) -> bool:
    return bool(box.get("classifier"))


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ax1, ay1, ax2, ay2 = (float(v) for v in a)
    bx1, by1, bx2, by2 = (float(v) for v in b)
    iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union if union > 0 else 0.0


def same_object(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return str(a.get("label")) == str(b.get("label")) and iou(a["box"], b["box"]) >= SAME_OBJECT_IOU


def verdict_label(said: str, decision: str) -> str:
    if decision == "confirm":
        return said
    if said.startswith(DISMISSED_PREFIX) and len(said) > len(DISMISSED_PREFIX):
        return said[len(DISMISSED_PREFIX) :]
    return DISMISSED_PREFIX + said


def _crop_of(box: Mapping[str, Any]) -> Box | None:
    crop = box.get("crop")
    if crop is None:
        return None
    x1, y1, x2, y2 = (float(v) for v in crop)
    return (x1, y1, x2, y2)


def label_evidence(
    decision: str,
    boxes: Sequence[Mapping[str, Any]],
    context: Sequence[Mapping[str, Any]] | None,
    corrections: Sequence[Mapping[str, Any]] | None,
    person_labels: Collection[str] = ("person",),
) -> Labelling:
    """The labels of one evidence picture (the rules in the module's docstring).
    `decision` is `confirm` or `dismiss`; `corrections` None: the reviewer drew none."""
    if decision not in ("confirm", "dismiss"):
        raise ValueError(f"unknown review decision {decision!r} (confirm or dismiss)")
    verdicts = [
        Verdict(
            str(b["classifier"]),
            str(b["label"]),
            verdict_label(str(b["label"]), decision),
            _crop_of(b),
        )
        for b in boxes
        if is_verdict(b)
    ]
    detections = [dict(b) for b in boxes if not is_verdict(b)]
    fixes = [dict(b) for b in corrections] if corrections is not None else None
    if context is None:
        if decision == "confirm":
            return Labelling(detections, verdicts, 0, 0, False)
        # a false positive: nothing to find here, unless the reviewer drew what is
        return Labelling(fixes if fixes is not None else [], verdicts, 0, 0, False)
    seen = [dict(b) for b in context if not is_verdict(b)]
    if decision == "confirm":
        # the raising boxes come from the frame's objects; any that does not is added
        extra = [d for d in detections if not any(same_object(d, c) for c in seen)]
        return Labelling(seen + extra, verdicts, len(seen), 0, True)
    disputes = [d for d in detections if str(d.get("label")) not in person_labels]
    kept = [c for c in seen if not any(same_object(c, d) for d in disputes)]
    disputed = len(seen) - len(kept)
    if fixes is not None:
        kept = [c for c in kept if not any(same_object(c, f) for f in fixes)]
    return Labelling(kept + (fixes or []), verdicts, len(kept), disputed, True)
