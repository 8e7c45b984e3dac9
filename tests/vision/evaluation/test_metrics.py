"""COCO-style AP, P/R and the confusion matrix against hand-computed cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from brightwatch.vision.evaluation.metrics import Accumulator, Boxes, average_precision, match

CASES = json.loads((Path(__file__).parent / "map_cases.json").read_text())["cases"]


def run(case: dict) -> Accumulator:
    acc = Accumulator(case["names"], case["operating_score"])
    for image in case["images"]:
        truth = np.asarray(image["truth"], float).reshape(-1, 5)
        pred = np.asarray(image["pred"], float).reshape(-1, 6)
        acc.add(
            Boxes.of(pred[:, :4], pred[:, 4].astype(int), pred[:, 5]),
            Boxes.of(truth[:, :4], truth[:, 4].astype(int)),
        )
    return acc


def same(a: float, b: float | None) -> bool:
    return (b is None and math.isnan(a)) or (b is not None and a == pytest.approx(b, abs=1e-9))


@pytest.mark.parametrize("case", CASES, ids=[c["name"][:60] for c in CASES])
def test_case(case: dict) -> None:
    result = run(case).result()
    by_name = {c.name: c for c in result.classes}
    for name, want in case["expected"].items():
        got = by_name[name]
        assert same(got.ap50, want["AP50"]), (name, "AP50", got.ap50)
        assert same(got.ap50_95, want["AP50-95"]), (name, "AP50-95", got.ap50_95)
        assert same(got.precision, want["precision"]), (name, "P", got.precision)
        assert same(got.recall, want["recall"]), (name, "R", got.recall)
    assert result.map50 == pytest.approx(case["mAP50"])
    assert result.map50_95 == pytest.approx(case["mAP50-95"])


def test_matching_takes_the_best_unmatched_truth_in_score_order() -> None:
    truth = Boxes.of([[0, 0, 10, 10], [5, 0, 15, 10]], [0, 0])
    # the better-scored detection overlaps both truths and takes the one it fits best
    pred = Boxes.of([[5, 0, 15, 10], [0, 0, 10, 10]], [0, 0], [0.9, 0.8])
    tp = match(pred, truth, np.array([0.5]))
    assert tp[:, 0].tolist() == [True, True]


def test_ap_of_a_class_without_truth_is_nan() -> None:
    ap, _, _ = average_precision(np.array([True]), np.array([0.5]), 0)
    assert math.isnan(ap)


def test_confusion_matrix() -> None:
    case = {
        "names": ["a", "b"],
        "operating_score": 0.5,
        "images": [
            {
                "truth": [[0, 0, 10, 10, 0], [20, 0, 30, 10, 1], [40, 0, 50, 10, 1]],
                "pred": [
                    [0, 0, 10, 10, 0, 0.9],  # a as a
                    [20, 0, 30, 10, 0, 0.8],  # b taken for a
                    [60, 0, 70, 10, 1, 0.7],  # b where nothing is: background
                    [40, 0, 50, 10, 1, 0.2],  # below the operating score: b missed
                ],
            }
        ],
    }
    confusion = run(case).result().confusion
    # rows predicted a, b, background; columns true a, b, background
    assert confusion.tolist() == [[1, 1, 0], [0, 0, 1], [0, 1, 0]]


def test_best_f1_and_its_score() -> None:
    case = CASES[1]  # TP .9, FP .8, TP .7 over two truths: F1 2/3, 1/2, 4/5
    c = run(case).result().classes[0]
    assert c.best_f1 == pytest.approx(0.8) and c.best_f1_score == pytest.approx(0.7)


def test_class_ids_outside_the_names_are_refused() -> None:
    acc = Accumulator(["a"])
    with pytest.raises(ValueError, match="outside"):
        acc.add(Boxes.of([[0, 0, 1, 1]], [1], [0.9]), Boxes.of([], []))


def test_summary_is_plain_data() -> None:
    summary = run(CASES[1]).result().summary()
    json.dumps(summary)  # no numpy types
    assert summary["mAP50"] == pytest.approx(CASES[1]["mAP50"])
    assert summary["confusion_matrix"]["counts"] == [[2, 1], [0, 0]]
