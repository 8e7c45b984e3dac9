"""The deployed per-frame pipeline on the labelled kitchen dev set (`models/devset`,
labelled by eye before any model ran on it), as issue 12 accepts it:

- staff in caps or hats without a mask are never judged `with_mask` (the first round
  read the blue cap of a bent worker as a blue mask, 0.89-1.00, and turned backs got a
  confident `with_mask`);
- a worker wearing a mask is never judged without one (never flagged);
- the default input policy finds no fewer staff than when it was measured (the goal,
  90 %, is not met by the detectors at hand: models/README.md).

On the `dev` split with its CCTV-like variants (the `holdout` split is kept for the
figures in models/README.md). Needs ../shared (the pictures) and the COCO detector
there; skipped with the reason otherwise.
"""

from __future__ import annotations

from typing import Any

import cv2
import pytest

from brightwatch.vision.evaluation import devset
from brightwatch.vision.evaluation.devset import DevFrame, Person
from brightwatch.vision.frame_assess import FrameAssessor
from brightwatch.vision.rules.zones import iou
from brightwatch.vision.settings import VisionSettings
from tests.conftest import shared_path

VIOLATING = {"without_mask", "mask_weared_incorrect"}
Assessed = list[tuple[DevFrame, dict[str, Any]]]


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> Assessed:
    shared = shared_path()
    shared_path("models", "coco")
    out = tmp_path_factory.mktemp("devset")
    frames = [f for f in devset.build(shared, out) if f.split == "dev"]
    assessor = FrameAssessor.from_settings(VisionSettings(), "coco", out / "data")
    if assessor.inference.heads is None:
        pytest.skip("no face model (brightwatch models install)")
    return [(f, assessor.assess(cv2.imread(str(f.image)), f.id)) for f in frames]


def box(values: list[float]) -> tuple[float, float, float, float]:
    return (values[0], values[1], values[2], values[3])


def matched(frame: DevFrame, found: dict[str, Any]) -> list[tuple[Person, dict[str, Any]]]:
    """(labelled person, the assessed person it matches at IoU >= 0.5)."""
    persons = list(found["persons"])
    pairs = []
    for truth in frame.persons:
        if truth.ignore or not persons:
            continue
        best = max(persons, key=lambda p, t=truth: iou(box(p["box"]), box(t.box)))
        if iou(box(best["box"]), box(truth.box)) >= 0.5:
            pairs.append((truth, best))
            persons.remove(best)
    return pairs


def test_no_unmasked_worker_in_a_cap_is_judged_masked(assessed: Assessed) -> None:
    wrong, judged = [], 0
    for frame, found in assessed:
        for truth, person in matched(frame, found):
            if truth.mask == "without_mask" and truth.hat == "hat":
                judged += 1
                if person["attributes"]["mask"] == "with_mask":
                    wrong.append(frame.id)
    assert judged >= 10, "the dev set holds capped staff without masks"
    assert wrong == []


def test_no_masked_worker_is_flagged(assessed: Assessed) -> None:
    wrong, judged = [], 0
    for frame, found in assessed:
        for truth, person in matched(frame, found):
            if truth.mask == "with_mask":
                judged += 1
                if person["attributes"]["mask"] in VIOLATING:
                    wrong.append(frame.id)
    assert judged >= 1
    assert wrong == []


def test_the_default_input_finds_the_staff_it_found_when_measured(assessed: Assessed) -> None:
    """A regression floor, not the goal: issue 12 wants >= 90 % of visible staff; the
    COCO nano detectors at hand reach 0.71 (320 input with tiles) to 0.73 (640 input)
    on these labels, which count colleagues mostly hidden behind a worker (see
    models/README.md). Falling below what was measured fails."""
    staff = found = 0
    for frame, result in assessed:
        labelled = [p for p in frame.persons if p.staff and not p.ignore]
        staff += len(labelled)
        hits = {id(t) for t, _ in matched(frame, result)}
        found += sum(1 for p in labelled if id(p) in hits)
    assert staff >= 30
    assert found / staff >= 0.7, f"{found} of {staff} staff found"
