"""The evidence of a raised violation keeps what else its frame held (`context`) and
marks a crop classifier's verdict as one (`classifier`, `crop`), so that review
decisions can become training data (alerts.review.labels); a saved and restored rule
state keeps them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.vision.rules.harness import run

PERSON = [200, 100, 320, 460]
PHONE = [230, 200, 260, 240]
CAT = [500, 380, 600, 470]


def frames(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"camera": {}, "steps": [{"t": 0, "repeat": 5, "objects": objects}]}


@pytest.mark.parametrize("restart_every", [0, 1])
def test_phone_evidence_keeps_the_person_and_the_cat(restart_every: int) -> None:
    events = run(
        frames(
            [
                {"label": "person", "score": 0.9, "box": PERSON},
                {"label": "cell phone", "score": 0.8, "box": PHONE},
                {"label": "cat", "score": 0.7, "box": CAT},
            ]
        ),
        restart_every,
    )
    (event,) = [e for e in events if e.code == "PHONE"]
    for ref in event.evidence:
        assert [b.label for b in ref.boxes] == ["cell phone"]  # what raised the code
        assert ref.context is not None
        assert sorted((b.label, list(b.box)) for b in ref.context) == sorted(
            [("person", PERSON), ("cell phone", PHONE), ("cat", CAT)]
        )
        assert all(not b.classifier and b.crop is None for b in ref.context)
        stored = [b.as_json() for b in ref.context]
        assert {b["label"] for b in stored} == {"person", "cell phone", "cat"}
        assert all("classifier" not in b for b in stored)


def test_a_classifier_verdict_is_recorded_as_one_with_its_crop() -> None:
    crop = [245.0, 110.0, 275.0, 140.0]
    events = run(
        frames(
            [
                {
                    "label": "person",
                    "score": 0.9,
                    "box": PERSON,
                    "attributes": [["mask", "without_mask", 0.92, tuple(crop)]],
                }
            ]
        ),
        restart_every=2,
    )
    (event,) = [e for e in events if e.code == "NO_MASK"]
    ref = event.evidence[-1]
    (verdict,) = ref.boxes
    assert (verdict.label, verdict.classifier, list(verdict.box)) == (
        "without_mask",
        "mask",
        PERSON,
    )
    assert verdict.as_json()["crop"] == crop and verdict.as_json()["classifier"] == "mask"
    assert ref.context is not None
    assert [(b.label, b.classifier) for b in ref.context] == [("person", "")]
