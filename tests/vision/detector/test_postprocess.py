"""Decoding and NMS against hand-computed cases (decode_cases.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from brightwatch.vision.detector.postprocess import decode, guess_layout, nms

CASES = json.loads((Path(__file__).parent / "decode_cases.json").read_text())["cases"]


def outputs_for(case: dict) -> list[tuple[str, np.ndarray]]:
    rows = np.asarray(case["rows"], dtype=np.float32)
    if case["layout"] == "v8":
        return [("v8", rows.T[None]), ("v8t", rows[None])]
    return [(case["layout"], rows[None])]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_decode_case(case: dict) -> None:
    for layout, output in outputs_for(case):
        (raw,) = decode(output, layout, np.asarray(case["min_scores"], np.float32), iou=case["iou"])
        got = np.c_[raw.boxes, raw.scores, raw.classes] if len(raw) else np.zeros((0, 6))
        expected = np.asarray(case["expected"], dtype=np.float64).reshape(-1, 6)
        assert got.shape == expected.shape, (layout, got)
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=layout)


def test_batch_decodes_each_image_on_its_own() -> None:
    a = np.array([[50, 50, 20, 20, 0.9]], np.float32).T
    b = np.array([[10, 10, 4, 4, 0.1]], np.float32).T
    raws = decode(np.stack([a, b]), "v8", np.array([0.25], np.float32))
    assert [len(r) for r in raws] == [1, 0]


@pytest.mark.parametrize(
    ("shape", "nc", "end2end", "layout"),
    [
        ((1, 84, 2100), 80, False, "v8"),
        ((1, 8400, 84), 80, False, "v8t"),
        ((1, 25200, 85), 80, False, "v5"),
        ((1, 300, 6), 80, True, "end2end"),
        ((1, 5, 525), 1, False, "v8"),
        ((1, 6, 6), 2, False, "v8"),  # square: the exporters' layout wins
    ],
)
def test_guess_layout(shape: tuple[int, ...], nc: int, end2end: bool, layout: str) -> None:
    assert guess_layout(shape, nc, end2end) == layout


def test_guess_layout_refuses_a_mismatch() -> None:
    with pytest.raises(ValueError, match="does not match"):
        guess_layout((1, 10, 100), 80)


def reference_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Textbook greedy NMS, one pair at a time."""

    def iou(a: np.ndarray, b: np.ndarray) -> float:
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union if union > 0 else 0.0

    keep: list[int] = []
    for i in sorted(range(len(scores)), key=lambda k: -scores[k]):
        if all(iou(boxes[i], boxes[j]) <= threshold for j in keep):
            keep.append(i)
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_nms_matches_the_textbook_algorithm(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (60, 2))
    wh = rng.uniform(5, 40, (60, 2))
    boxes = np.c_[xy, xy + wh]
    scores = rng.permutation(60) / 60.0  # distinct scores: one right answer
    assert nms(boxes, scores, 0.45).tolist() == reference_nms(boxes, scores, 0.45)


def test_nms_max_det() -> None:
    boxes = np.array([[0, 0, 1, 1], [5, 5, 6, 6], [9, 9, 10, 10]], float)
    assert nms(boxes, np.array([0.1, 0.9, 0.5]), 0.5, max_det=2).tolist() == [1, 2]


@pytest.mark.parametrize("seed", range(5))
def test_v8_decodes_as_its_transpose(seed: int) -> None:
    """The v8 layout's own path (best score down the class rows first) keeps the same
    boxes, scores and classes as the transposed layout's, with per-class thresholds and
    ties between classes."""
    rng = np.random.default_rng(seed)
    nc, anchors = int(rng.integers(1, 8)), int(rng.integers(0, 400))
    out = rng.uniform(0, 1, (2, 4 + nc, anchors)).astype(np.float32)
    out[:, :2] *= 640
    out[:, 2:4] *= 80
    out[:, 4:] = np.round(out[:, 4:], 1)  # ties: the first class wins in both
    thresholds = rng.uniform(0.2, 0.9, nc).astype(np.float32)
    v8 = decode(out, "v8", thresholds)
    v8t = decode(np.ascontiguousarray(out.transpose(0, 2, 1)), "v8t", thresholds)
    assert sum(len(r) for r in v8) > 0 or anchors == 0
    for a, b in zip(v8, v8t, strict=True):
        assert a.classes.tolist() == b.classes.tolist()
        assert np.array_equal(a.scores, b.scores) and np.array_equal(a.boxes, b.boxes)
