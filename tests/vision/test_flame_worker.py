"""FIRE_UNATTENDED end to end: the vision worker on the real broker and database, the
project's flame detector (`fire`, models/fire_detector.onnx) beside the COCO person
detector, a camera registered with a `stove` zone over the flames.

The video is built here, in the test's tmp folder, from the frames of the fire_smoke
source video that training never saw (`flame_split.RESERVED_VIDEO`, a night CCTV street
fire, the flame at the left): its 22 frames in order, looped 4 times at 1 fps (87 s of
capture time, past the rule's default 60 s window, which is kept). The camera agent's
capture times let the worker see 87 s without the test waiting for them. With a cook at
the hobs in every frame (replayed as labelled `person` boxes by the `labels` backend),
the same video raises nothing.

The shipped model scores the reserved video's flames 0.2-0.4 (median about 0.3), under
the `fire` class's default minimum (0.4, fixed before measuring): at the defaults nothing
is raised, and that test is a strict xfail until a better model lands (models/
fire_detector.md). The path itself (detector, zones, the 60 s rule, alert and evidence) is
shown with the `fire` class's minimum and the rule's median score at 0.25, the detectors'
default operating score, set through the settings as a deployment would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import psycopg
import pytest

from brightwatch.embedded import EmbeddedBroker
from brightwatch.registry import store
from brightwatch.registry.models import CameraRecord, SiteRecord, Zone
from brightwatch.settings import Settings
from brightwatch.vision.detector.spec import BUILTIN_MODELS, ModelSpec
from brightwatch.vision.training.flame_split import RESERVED_VIDEO, part_of
from tests.conftest import shared_path
from tests.support.waiting import wait_until
from tests.vision.worker.support import (
    CAMERA,
    SITE,
    Camera,
    alerts,
    evidence,
    jpeg,
    now_ms,
    processed,
    vision_running,
)

FIRE_IMAGES = ("datasets", "fire_smoke", "images", "train")
COCO = ("models", "coco", "yolo11n_int8_320.onnx")
LOOPS = 4
# the hobs: the left third of the picture, where the reserved video's flame burns
HOBS = [(0.0, 0.2), (0.32, 0.2), (0.32, 1.0), (0.0, 1.0)]
# a cook standing at the hobs (YOLO cx cy w h): bottom centre (0.16, 0.95), in the zone
COOK = "0 0.16 0.55 0.14 0.8\n"


def reserved_video() -> list[bytes]:
    """The reserved source video's frames, as JPEG, in frame order."""
    folder = shared_path(*FIRE_IMAGES)
    frames = [p for p in folder.iterdir() if part_of(p.name) == "reserved"]
    assert len(frames) >= 20, f"expected the {RESERVED_VIDEO} frames in {folder}"
    frames.sort(key=lambda p: int(re.search(r"_mp4-(\d+)", p.name)[1]))  # type: ignore[index]
    return [jpeg(cv2.imread(str(p))) for p in frames]


@pytest.fixture
def camera(broker: EmbeddedBroker, settings: Settings) -> Iterator[Camera]:
    db = settings.database_url.get_secret_value()
    with psycopg.connect(db) as conn:
        store.upsert_site(conn, SITE, SiteRecord(name="Test kitchen", district="Futian"))
        hobs = Zone(name="hobs", kind="stove", polygon=HOBS)
        store.upsert_camera(conn, SITE, CAMERA, CameraRecord(work_area="cooking", zones=[hobs]))
    cam = Camera(broker.port, settings.topic_root)
    yield cam
    cam.close()


def fire_settings(
    settings: Settings, extra: dict[str, ModelSpec] | None = None, min_score: float | None = None
) -> Settings:
    """COCO (persons) + `fire` (+ `extra` detectors); `min_score`: the `fire` class's
    minimum and FIRE_UNATTENDED's median score, instead of the defaults."""
    fire_model = BUILTIN_MODELS["fire"][0]
    assert fire_model.is_file(), f"the committed flame detector {fire_model} is missing"
    update: dict[str, object] = {"detectors": ["fire", *(extra or {})], "models": dict(extra or {})}
    if min_score is not None:
        vs = settings.vision
        fire_rule = vs.classes["*"]["fire"].model_copy(update={"min_score": min_score})
        update["classes"] = {**vs.classes, "fire": {"fire": fire_rule}}
        confirm = vs.rules["FIRE_UNATTENDED"].model_copy(update={"median_score": min_score})
        update["rules"] = {**vs.rules, "FIRE_UNATTENDED": confirm}
    vision = settings.vision.model_copy(update=update)
    return settings.model_copy(update={"model": str(shared_path(*COCO)), "vision": vision})


DEPLOYED_MIN = 0.25  # the detectors' default operating score (ModelSpec.conf)


def play(settings: Settings, camera: Camera) -> list[dict]:
    db = settings.database_url.get_secret_value()
    video = reserved_video() * LOOPS
    start = now_ms() - 10 * 60_000
    with vision_running(settings):
        camera.frames((start + k * 1000, data) for k, data in enumerate(video))
        wait_until(lambda: processed(db, len(video)), timeout=50, what="all frames processed")
    return alerts(db)


@pytest.mark.xfail(
    strict=True,
    reason="the shipped model scores these flames 0.2-0.4, under the class minimum 0.4",
)
def test_flames_with_nobody_at_the_hobs_raise_fire_unattended_at_the_defaults(
    settings: Settings, camera: Camera
) -> None:
    settings = fire_settings(settings)
    check_raised(settings, play(settings, camera))


def test_flames_with_nobody_at_the_hobs_raise_fire_unattended_at_min_score_0_25(
    settings: Settings, camera: Camera
) -> None:
    settings = fire_settings(settings, min_score=DEPLOYED_MIN)
    check_raised(settings, play(settings, camera))


def check_raised(settings: Settings, found: list[dict]) -> None:
    fire = [a for a in found if a["code"] == "FIRE_UNATTENDED"]
    assert len(fire) == 1, found
    assert fire[0]["labels"]["zone"] == "hobs" and fire[0]["severity"] == "T2"
    rows = evidence(settings.database_url.get_secret_value(), fire[0]["id"])
    assert rows and any(b["label"] == "fire" for r in rows for b in r["boxes"]), rows
    assert rows[-1]["model"].startswith("fire@")
    assert "持续至少 60 秒" in rows[-1]["rule"], rows[-1]["rule"]  # the rule, in BW_LOCALE (zh-CN)


def test_the_same_flames_with_a_cook_at_the_hobs_raise_nothing(
    settings: Settings, camera: Camera, tmp_path: Path
) -> None:
    """Same frames, same settings as the test above, which raises: only the cook differs."""
    labels = tmp_path / "cook_labels"
    labels.mkdir()
    for k in range(LOOPS * len(reserved_video())):
        (labels / f"frame_{k:04d}.txt").write_text(COOK)
    cook = ModelSpec(path=str(labels), backend="labels", names=["person"])
    settings = fire_settings(settings, {"cook": cook}, min_score=DEPLOYED_MIN)
    found = play(settings, camera)
    assert [a for a in found if a["code"] == "FIRE_UNATTENDED"] == [], found
