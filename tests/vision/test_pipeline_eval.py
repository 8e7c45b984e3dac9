"""Scoring the per-frame pipeline (`vision eval --pipeline`) on hand-built assessments:
the matching, the attribute figures (invented compliance, unknown answers), the codes
the labels imply, and the command around it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from brightwatch.cli import main
from brightwatch.commands import vision as vision_commands
from brightwatch.vision.evaluation.devset import DevFrame, LabelledObject, Person
from brightwatch.vision.evaluation.pipeline import (
    SCORED_CODES,
    PipelineEvalError,
    evaluate_pipeline,
    implied_codes,
    score,
)
from tests.conftest import shared_path


def person(box: list[float], mask: str = "without_mask", hat: str = "hat", **kw: Any) -> Person:
    face = [box[0] + 2, box[1] + 2, box[2] - 2, box[1] + 20] if mask != "unknown" else None
    return Person(
        box=box, head=[box[0], box[1], box[2], box[1] + 25], face=face, mask=mask, hat=hat,
        staff=kw.pop("staff", True), **kw,
    )  # fmt: skip


def frame(
    persons: list[Person],
    objects: tuple[LabelledObject, ...] = (),
    *,
    split: str = "dev",
    variant: str = "base",
    regions: tuple[tuple[float, float, float, float], ...] = (),
    id: str = "f",
) -> DevFrame:
    return DevFrame(
        id=id, base_id=id, split=split, variant=variant, image=Path(f"{id}.jpg"), width=640,
        height=360, persons=tuple(persons), objects=objects, ignore_regions=regions, source=id,
    )  # fmt: skip


def answer(p: Person, score: float = 0.9, **attributes: str) -> dict[str, Any]:
    return {"box": list(p.box), "score": score,
            "attributes": attributes or {"mask": p.mask, "hat": p.hat}}  # fmt: skip


def assessment(persons: list[dict[str, Any]], candidates: list[str]) -> dict[str, Any]:
    return {"source": "f", "width": 640, "height": 360, "persons": persons, "objects": [],
            "candidates": candidates}  # fmt: skip


def perfect(f: DevFrame) -> dict[str, Any]:
    """What a pipeline that is always right answers: every counted person with its truth,
    the codes the labels imply."""
    persons = [answer(p) for p in f.persons if not p.ignore]
    return assessment(persons, sorted(implied_codes(f.persons, f.objects)))


A = person([10, 10, 60, 150], "without_mask", "hat")
B = person([100, 10, 150, 150], "with_mask", "no_hat")
C = person([200, 10, 250, 150], "unknown", "hat")
PHONE = LabelledObject(label="cell phone", box=[40, 60, 70, 80])
RAT = LabelledObject(label="rat", box=[400, 300, 450, 340])
FIRE = LabelledObject(label="fire", box=[300, 200, 350, 260])


def test_a_perfect_pipeline_scores_one() -> None:
    frames = [
        frame([A, B, C], (PHONE,), id="kitchen"),
        frame([], (RAT,), id="night", split="holdout"),
        frame([], (FIRE,), id="stove", variant="half"),
        frame([B], (FIRE,), id="cooking", variant="half"),
    ]
    report = score(frames, [perfect(f) for f in frames])
    every = report["all"]
    assert every["persons"]["recall"] == every["persons"]["precision"] == 1.0
    for name in ("mask", "hat"):
        a = every["attributes"][name]
        assert a["precision"] == a["recall"] == a["recall_detected"] == 1.0
        assert a["invented_compliance"] == 0
    # the truth-unknown person answered unknown: counted in the rate, not an error
    assert every["attributes"]["mask"]["unknown_rate"] == pytest.approx(1 / 4)
    assert every["attributes"]["mask"]["unverifiable"] == 0
    for code in ("NO_MASK", "NO_HAT", "PHONE", "RODENT", "FIRE_UNATTENDED"):
        assert every["codes"][code]["precision"] == every["codes"][code]["recall"] == 1.0, code
    assert every["codes"]["FIRE_UNATTENDED"]["frames_with_code"] == 1  # not while cooking
    assert set(report["split"]) == {"dev", "holdout"}
    assert report["split"]["holdout"]["codes"]["RODENT"]["tp"] == 1
    assert report["variant"]["half"]["frames"] == 2


def test_a_masked_answer_on_an_unmasked_worker_is_invented_compliance() -> None:
    f = frame([A, B])
    found = assessment([answer(A, mask="with_mask", hat="hat"), answer(B)], [])
    mask = score([f], [found])["all"]["attributes"]["mask"]
    assert mask["invented_compliance"] == 1
    assert mask["recall"] == 0.0
    assert math.isnan(mask["precision"])  # no violation answered at all
    assert mask["confusion"]["without_mask"] == {"with_mask": 1, "without_mask": 0, "unknown": 0}
    codes = score([f], [found])["all"]["codes"]
    assert codes["NO_MASK"]["fn"] == 1 and codes["NO_MASK"]["recall"] == 0.0


def test_unknown_answers_count_in_the_unknown_rate_not_against_precision() -> None:
    other = person([300, 10, 350, 150], "without_mask")
    f = frame([A, other, B])
    found = assessment([answer(A), answer(other, mask="unknown", hat="hat"), answer(B)], [])
    mask = score([f], [found])["all"]["attributes"]["mask"]
    assert mask["precision"] == 1.0
    assert mask["recall"] == 0.5  # the violator answered unknown is not caught
    assert mask["unknown_rate"] == pytest.approx(1 / 3)
    assert mask["invented_compliance"] == 0


def test_a_violation_on_someone_unlabelled_or_unjudgeable_is_kept_apart() -> None:
    f = frame([A, C])
    ghost = {"box": [500, 10, 600, 150], "score": 0.8, "attributes": {"mask": "without_mask"}}
    found = assessment([answer(A), answer(C, mask="without_mask"), ghost], [])
    every = score([f], [found])["all"]
    mask = every["attributes"]["mask"]
    assert mask["unverifiable"] == 1  # C's face could not be judged by the labeller
    assert mask["violation_answers_on_false_persons"] == 1
    assert mask["precision"] == 0.5  # A right, the ghost wrong
    assert every["persons"]["false"] == 1 and every["persons"]["precision"] == pytest.approx(2 / 3)


def test_ignore_persons_and_regions_are_neutral() -> None:
    tiny = person([600, 10, 610, 25], "unknown", "unknown", ignore=True)
    f = frame([A, tiny], regions=((300, 200, 640, 360),))
    on_crowd = {"box": [400, 250, 450, 350], "score": 0.7, "attributes": {}}
    found = assessment([answer(A), answer(tiny), on_crowd], [])
    persons = score([f], [found])["all"]["persons"]
    assert persons == {**persons, "labelled": 1, "detected": 1, "false": 0, "neutral": 2}
    missed = score([f], [assessment([], [])])["all"]["persons"]
    assert missed["labelled"] == 1 and missed["recall"] == 0.0  # the tiny one is not missed


def test_matching_is_greedy_by_score_at_iou_one_half() -> None:
    f = frame([A])
    low = {**answer(A, 0.3, mask="with_mask", hat="hat")}
    high = {**answer(A, 0.9), "box": [12, 12, 62, 152]}
    off = {**answer(A, 0.95), "box": [40, 10, 90, 150]}  # IoU 0.25 with A
    found = assessment([low, high, off], [])
    every = score([f], [found])["all"]
    assert every["persons"]["detected"] == 1 and every["persons"]["false"] == 2
    assert every["attributes"]["mask"]["confusion"]["without_mask"]["without_mask"] == 1


def test_the_codes_the_labels_imply() -> None:
    phone_far = LabelledObject(label="cell phone", box=[600, 300, 620, 320])
    smoke = LabelledObject(label="cigarette", box=[210, 15, 220, 20])
    assert implied_codes([A], [PHONE]) == {"NO_MASK", "PHONE"}
    assert implied_codes([B], [phone_far]) == {"NO_HAT"}
    assert implied_codes([C], [smoke, RAT]) == {"SMOKING", "RODENT"}
    assert implied_codes([], [FIRE]) == {"FIRE_UNATTENDED"}
    assert implied_codes([person([1, 1, 9, 15], ignore=True)], [FIRE]) == {"FIRE_UNATTENDED"}
    assert implied_codes([C], [FIRE]) == set()
    assert set(SCORED_CODES) >= {"NO_MASK", "NO_HAT", "PHONE", "RODENT", "FIRE_UNATTENDED"}


def test_codes_outside_the_mapping_are_counted_not_scored() -> None:
    f = frame([C])
    report = score([f], [assessment([answer(C)], ["LEAVE_POST", "RODENT"])])["all"]
    assert report["unscored_codes"] == {"LEAVE_POST": 1}
    assert report["codes"]["RODENT"]["fp"] == 1 and report["codes"]["RODENT"]["precision"] == 0


@pytest.mark.parametrize(
    ("found", "message"),
    [
        ({"source": "x", "persons": [], "objects": []}, "`candidates` must be a list"),
        (assessment([{"box": [1, 2, 3], "score": 0.5}], []), "a box is"),
        (assessment([{"box": [1, 2, 3, 4]}], []), "`score` must be a number"),
        (assessment([{"box": [1, 2, 3, 4], "score": 1, "attributes": {"mask": "maybe"}}], []),
         "mask answer 'maybe'"),
    ],
)  # fmt: skip
def test_a_malformed_assessment_is_refused_with_the_reason(
    found: dict[str, Any], message: str
) -> None:
    with pytest.raises(PipelineEvalError, match=message):
        score([frame([A])], [found])


def test_model_answers_are_mapped_to_the_dev_set_vocabulary() -> None:
    f = frame([A, B])
    found = assessment(
        [answer(A, mask="mask_weared_incorrect", hat="helmet"),
         answer(B, mask="with_mask", hat="no_helmet")], [],
    )  # fmt: skip
    every = score([f], [found])["all"]["attributes"]
    assert every["mask"]["recall"] == 1.0 and every["hat"]["recall"] == 1.0


class Oracle:
    """An assessor that answers from the built dev set's own labels (by frame id)."""

    def __init__(self) -> None:
        self.frames: dict[str, DevFrame] = {}
        self.seen: list[tuple[str, tuple[int, ...]]] = []

    def __call__(self, image: np.ndarray, source: str) -> dict[str, Any]:
        self.seen.append((source, image.shape))
        manifest = json.loads((self.out / "manifest.json").read_text())
        truth = next(f for f in manifest["frames"] if f["id"] == source)
        persons = [Person.model_validate(p) for p in truth["persons"]]
        objects = [LabelledObject.model_validate(o) for o in truth["objects"]]
        return assessment([answer(p) for p in persons if not p.ignore],
                          sorted(implied_codes(persons, objects)))  # fmt: skip

    out: Path


def test_the_whole_evaluation_on_the_built_dev_set(tmp_path: Path) -> None:
    """Builds the dev set from ../shared (all variants) and scores an oracle on the
    holdout split; wall time about 6 s."""
    shared = shared_path()
    oracle = Oracle()
    oracle.out = tmp_path
    done = evaluate_pipeline(
        oracle, shared, Path("models/devset/labels.json"), tmp_path, split="holdout"
    )
    assert {f.split for f in done.frames} == {"holdout"}
    assert len(oracle.seen) == len(done.frames) > 20
    height, width = oracle.seen[0][1][:2]
    assert (width, height) == (done.frames[0].width, done.frames[0].height)
    assert done.report["all"]["persons"]["recall"] == 1.0
    written = json.loads(done.paths["json"].read_text())
    assert written["evaluated_split"] == "holdout" and written["all"]["frames"] == len(done.frames)
    for key in ("codes", "variants"):
        assert done.paths[key].read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pipeline", "--data", "x"], "drop --data"),
        (["--pipeline", "--split", "val"], "--split dev, holdout or all"),
        (["--pipeline", "--imgsz", "320", "--limit", "3"], "drop --limit, --imgsz"),
        (["--data", "x", "--json"], "--json only go with --pipeline"),
        (["--data", "x", "--split", "holdout"], "--split holdout is a dev set split"),
    ],
)
def test_eval_pipeline_refuses_nonsense(
    tmp_path: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BW_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "x").mkdir()
    done = CliRunner().invoke(
        main, ["vision", "eval", *[a.replace("x", str(tmp_path / "x")) if a == "x" else a
                                    for a in args]],
    )  # fmt: skip
    assert done.exit_code == 2, done.output
    assert message in done.output


def test_eval_pipeline_prints_the_table_or_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command with an oracle in place of the deployed assessor (that one is the
    lead's acceptance test); wall time about 6 s."""
    shared = shared_path()
    oracle = Oracle()
    oracle.out = tmp_path / "out"
    monkeypatch.setattr(vision_commands, "_pipeline_assessor", lambda settings, spec: oracle)
    monkeypatch.setenv("BW_DATA_DIR", str(tmp_path / "data"))
    args = ["vision", "eval", "--pipeline", "--shared", str(shared), "--out", str(oracle.out)]
    done = CliRunner().invoke(main, [*args, "--split", "holdout", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["all"]["persons"]["recall"] == 1.0 and set(report["split"]) == {"holdout"}
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert "split dev" in done.output and "NO_MASK" in done.output and "high_angle" in done.output
    missing = CliRunner().invoke(main, [*args[:3], "--shared", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "shared media" in missing.output
