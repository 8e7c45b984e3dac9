"""Faces and heads of persons: the mask classifier judges a face it can see, and says
`unknown` for the back of a head, a face too small, or when no face model is there."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from brightwatch.vision.detector.base import Attribute as Verdict
from brightwatch.vision.detector.base import Detection
from brightwatch.vision.heads import HeadFinder, head_of_face, search_area
from brightwatch.vision.inference import UNKNOWN, Classifier, Inference
from brightwatch.vision.privacy import BlazeFace, Face, PrivacyUnavailable, find_face_model
from brightwatch.vision.rules.config import AttributeRule
from tests.conftest import shared_path


class FacesAt:
    """A face model that finds the given faces (frame pixels) inside what it is shown;
    it records the crops it was shown (their frame offsets come from a marker)."""

    def __init__(self, faces: Sequence[tuple[float, float, float, float]], score: float = 0.9):
        self.faces = faces
        self.score = score
        self.shown: list[tuple[int, int]] = []

    def detect(self, image: np.ndarray) -> list[Face]:
        # each pixel's blue channel holds x // 8, green y // 8 of the frame
        x0, y0 = int(image[0, 0, 0]) * 8, int(image[0, 0, 1]) * 8
        h, w = image.shape[:2]
        self.shown.append((w, h))
        out = []
        for x1, y1, x2, y2 in self.faces:
            if x0 <= x1 and y0 <= y1 and x2 <= x0 + w + 8 and y2 <= y0 + h + 8:
                out.append(Face((x1 - x0, y1 - y0, x2 - x0, y2 - y0), self.score))
        return out


def marked(w: int = 800, h: int = 600) -> np.ndarray:
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :, 0] = (np.arange(w) // 8).astype(np.uint8)[None, :]
    image[:, :, 1] = (np.arange(h) // 8).astype(np.uint8)[:, None]
    return image


def test_search_area_is_the_top_of_an_upright_person_and_all_of_a_bending_one() -> None:
    upright = search_area((100, 100, 200, 400), 800, 600)
    assert upright[1] <= 100 and upright[3] == 250  # top half
    bending = search_area((100, 300, 400, 500), 800, 600)
    assert bending[3] == 500  # wider than tall: the whole box


def test_head_is_above_the_face() -> None:
    head = head_of_face((100, 100, 140, 150), 800, 600)
    assert head[1] == 50 and head[3] > 150 and head[0] < 100 and head[2] > 140


def test_finder_keeps_a_face_in_the_person_and_skips_tiny_or_weak_ones() -> None:
    image = marked()
    person = (100.0, 100.0, 200.0, 400.0)
    finder = HeadFinder(FacesAt([(130, 110, 170, 160)]))
    (head,) = finder.find(image, [person])
    assert head.face is not None and abs(head.face[0] - 130) <= 8
    tiny = HeadFinder(FacesAt([(130, 110, 140, 120)]), min_face_px=16).find(image, [person])[0]
    weak = HeadFinder(FacesAt([(130, 110, 170, 160)], score=0.3)).find(image, [person])[0]
    assert tiny.face is None and weak.face is None
    # without a face the head falls back to the top of the person box
    assert tiny.head[1] == 100 and tiny.head[3] < 200


class OnePerson:
    name, version, names = "people", "1", ("person",)

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        self.box = box

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        return [[Detection("person", 0.9, self.box, 0)] for _ in images]


class Masks:
    """Says with_mask for anything, and records the crop sizes it judged."""

    name, version, names = "mask", "1", ("with_mask", "without_mask")
    crop_expand = 1.25

    def __init__(self) -> None:
        self.judged: list[tuple[int, int]] = []

    def classify(self, crops: Sequence[np.ndarray]) -> list[Verdict]:
        self.judged += [c.shape[:2] for c in crops]
        return [Verdict("with_mask", 0.99) for _ in crops]


RULE = AttributeRule(
    classifier="mask", region="face", labels={"without_mask": "NO_MASK"}, min_crop_px=16
)


def test_mask_judges_the_face_found_not_the_top_of_the_box() -> None:
    person = (100.0, 100.0, 300.0, 500.0)
    masks = Masks()
    faces = FacesAt([(180, 130, 220, 180)])
    inf = Inference([OnePerson(person)], [Classifier("mask", RULE, masks)], heads=HeadFinder(faces))  # type: ignore[list-item]
    (objs,) = inf.run([marked()], ["full"])
    (attr,) = objs[0].attributes
    assert (attr.classifier, attr.label) == ("mask", "with_mask")
    # the crop is the face (40 x 50 px, give or take the marker's 8 px) widened x1.25,
    # not the 100 x 140 px head region of the box
    ((h, w),) = masks.judged
    assert 55 <= h <= 75 and 45 <= w <= 65


def test_no_face_visible_or_no_face_model_means_unknown_never_with_mask() -> None:
    person = (100.0, 100.0, 300.0, 500.0)
    for heads in (HeadFinder(FacesAt([])), None):  # back of the head; no face model
        masks = Masks()
        inf = Inference([OnePerson(person)], [Classifier("mask", RULE, masks)], heads=heads)  # type: ignore[list-item]
        (objs,) = inf.run([marked()], ["full"])
        (attr,) = objs[0].attributes
        assert attr.label == UNKNOWN and attr.score == 0.0
        assert masks.judged == []


def test_a_hat_classifier_judges_the_head_above_the_face_else_the_top_of_the_box() -> None:
    person = (100.0, 100.0, 300.0, 500.0)
    hat = AttributeRule(classifier="hat", region="head", labels={"no_hat": "NO_HAT"})
    for faces, expected in (
        # face 40 x 50 at (180, 170): the head adds a face height above (2.1 x 50 tall),
        # a third of its width on each side (66 wide)
        ([(180, 170, 220, 220)], (105, 66)),
        ([], (100, 140)),  # no face: the top quarter, central 70 % of the box
    ):
        judge = Masks()
        inf = Inference(
            [OnePerson(person)],  # type: ignore[list-item]
            [Classifier("hat", hat, judge)],  # type: ignore[arg-type]
            heads=HeadFinder(FacesAt(faces)),
        )
        (objs,) = inf.run([marked()], ["full"])
        assert objs[0].attributes[0].label != UNKNOWN
        ((h, w),) = judge.judged
        assert abs(h - expected[0]) <= 12 and abs(w - expected[1]) <= 12, (h, w)


def test_the_worker_face_search_finds_the_same_faces_on_openvino_as_on_onnx_runtime() -> None:
    """The worker's face search runs BlazeFace on OpenVINO (f32), the privacy filter on
    ONNX Runtime: the same faces and scores on the kitchen photos and the face set's
    pictures, searched whole and as two threads would (one stream each)."""
    try:
        model = find_face_model(None)
    except PrivacyUnavailable as exc:
        pytest.skip(f"{exc}")
    files = sorted(glob.glob(str(shared_path("media", "kitchen") / "*")))
    faces = shared_path("datasets", "face_mask", "images")
    files += sorted(glob.glob(str(faces / "**" / "*.*"), recursive=True))[:12]
    if not files:
        pytest.skip("no pictures in ../shared")
    images = [cv2.imread(f) for f in files]
    ort_faces = BlazeFace(model, threshold=0.3, tiles=False)
    ov_faces = BlazeFace(model, threshold=0.3, tiles=False, runtime="openvino", streams=2)
    expected = [ort_faces.detect(i) for i in images]
    with ThreadPoolExecutor(2) as pool:
        found = list(pool.map(ov_faces.detect, images))
    assert sum(len(e) for e in expected) > 0, "no face in the pictures: nothing compared"
    for want, got in zip(expected, found, strict=True):
        assert len(got) == len(want)
        for a, b in zip(want, got, strict=True):
            assert np.allclose(a.box, b.box, atol=0.05) and abs(a.score - b.score) < 1e-4
