"""RODENT with the person rejection on real footage: the shared rat video (a hand and an
arm in view, which COCO calls `person`) through the COCO person detector and the trained
rat detector at 1 fps, the rule engine deciding (bench.rat_false_alarms' path). The rat
must still raise RODENT; the rat-free CCTV clip with people must not.

Needs ../shared and the trained rat model (skipped with the reason otherwise)."""

from __future__ import annotations

import pytest

from bench.rat_false_alarms import RAT_FREE_VIDEOS, RAT_VIDEO, SHARED, VIDEOS, variants, video
from brightwatch.vision.detector import load_detector
from brightwatch.vision.inference import Inference
from brightwatch.vision.settings import VisionSettings
from tests.vision.worker.test_acceptance import rat_model

COCO = SHARED / "models" / "coco" / "yolo11n_int8_320.onnx"
WITH = "rodent_with_person_rejection"


@pytest.fixture(scope="module")
def judged() -> tuple[Inference, list]:  # type: ignore[type-arg]
    if not (COCO.exists() and (VIDEOS / RAT_VIDEO).exists()):
        pytest.skip(f"needs ../shared ({COCO} and the rat video); not present")
    model = rat_model()
    inference = Inference([load_detector(str(COCO)), load_detector(str(model))])
    return inference, variants(VisionSettings())


def test_rat_video_still_raises_rodent_with_people_rejected(judged) -> None:  # type: ignore[no-untyped-def]
    inference, vs = judged
    found = video(inference, vs, VIDEOS / RAT_VIDEO, fps=1.0)
    assert found[WITH]["alarms"] >= 1, found


def test_cctv_with_people_raises_no_rodent(judged) -> None:  # type: ignore[no-untyped-def]
    inference, vs = judged
    found = video(inference, vs, VIDEOS / RAT_FREE_VIDEOS[0], fps=1.0)
    assert found[WITH]["alarms"] == 0, found
