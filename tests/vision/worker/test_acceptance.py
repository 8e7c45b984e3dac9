"""Acceptance of the vision worker on the real broker and database: the component runs as
`brightwatch serve --components vision` does, camera traffic is published over MQTT 5
with QoS 1 and capture times, and the alerts, evidence rows and files are read back.

Media and models come from ../shared (skipped with the reason when absent); the rat
detector is produced by `brightwatch vision train detector ... --name rat` into
BW_DATA_DIR/models (models/README.md) and is not committed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from brightwatch.vision.detector.spec import ModelSpec
from tests.conftest import shared_path
from tests.support.waiting import wait_until
from tests.vision.worker.support import (
    CAMERA,
    SITE,
    Camera,
    alerts,
    data_file,
    evidence,
    jpeg,
    now_ms,
    processed,
    solid,
    vision_running,
)

RAT_VIDEO = ("media", "video", "rat_cage_phonevideo_2022-11-01_17-51-05_reassembled.mp4")
RAT_LABELS = ("media", "video", "rat_cage_phonevideo_2022-11-01_17-51-05_labels")
# a person holding a phone up to her face (COCO: person 0.91, cell phone 0.71)
PHONE_PICTURE = ("datasets", "face_mask", "images", "train", "maksssksksss733.jpg")
# a kitchen with cooks and no phone
KITCHEN_PICTURE = ("media", "kitchen", "billjln_chefcostume_2.jpg")
COCO = ("models", "coco", "yolo11n_int8_320.onnx")


def rat_model() -> Path:
    """The trained rat detector where models/README.md's command puts it."""
    home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    path = home / "brightwatch" / "models" / "rat.onnx"
    if not path.exists():
        pytest.skip(
            f"needs the rat detector at {path} (brightwatch vision train detector --data "
            "../shared/datasets/rat --name rat ..., see models/README.md); not present"
        )
    return path


def video_frames(path: Path, every: int = 1) -> Iterator[tuple[int, bytes]]:
    """(frame index, JPEG) of a video."""
    capture = cv2.VideoCapture(str(path))
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            if index % every == 0:
                yield index, jpeg(frame)
            index += 1
    finally:
        capture.release()


@pytest.fixture
def camera(broker: EmbeddedBroker, settings: Settings) -> Iterator[Camera]:
    cam = Camera(broker.port, settings.topic_root)
    yield cam
    cam.close()


def check_evidence(settings: Settings, alert_id: int, label: str) -> list[dict]:
    rows = evidence(settings.database_url.get_secret_value(), alert_id)
    assert rows, "the alert has no evidence"
    for row in rows:
        data = data_file(settings, row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert data[:2] == b"\xff\xd8" and row["size_bytes"] == len(data)
        assert any(b["label"] == label for b in row["boxes"]), row["boxes"]
        assert row["model"] and "@" in row["model"]
        assert row["rule"] and row["code"] in row["rule"]
        assert (row["site_id"], row["camera_id"]) == (SITE, CAMERA)
    return rows


def run_rat_video(
    settings: Settings, camera: Camera, every: int
) -> tuple[list[dict], list[tuple[int, bytes]]]:
    db = settings.database_url.get_secret_value()
    video = shared_path(*RAT_VIDEO)
    start = now_ms() - 60_000
    frames = [(start + i * 100, data) for i, data in video_frames(video, every)]  # 10 fps
    with vision_running(settings):
        camera.frames(frames)
        wait_until(lambda: processed(db, len(frames)), timeout=240, what="all frames processed")
    return alerts(db), frames


def test_rat_video_with_rat_model_raises_one_rodent_alert(
    settings: Settings, camera: Camera
) -> None:
    """The real rat video through the real rat detector, sampled at 2 fps like the agent."""
    model = rat_model()
    settings = settings.model_copy(update={"model": str(model)})
    found, _ = run_rat_video(settings, camera, every=5)
    rodent = [a for a in found if a["code"] == "RODENT"]
    assert len(rodent) == 1, found
    assert rodent[0]["count"] <= 3  # one alert per episode, not one per frame (66 frames)
    check_evidence(settings, rodent[0]["id"], "rat")


def test_rat_video_replayed_labels_raise_one_rodent_alert(
    settings: Settings, camera: Camera
) -> None:
    """The same video with its ground-truth boxes as the detector (the `labels` backend):
    330 frames with a rat in every one give exactly one RODENT alert, T1, with evidence
    frames whose files match their hashes, and a recent frame as the snapshot (written
    at most every `snapshot_every_s`, 5 s of capture time)."""
    labels = shared_path(*RAT_LABELS)
    vision = settings.vision.model_copy(
        update={
            "models": {"ratlabels": ModelSpec(path=str(labels), backend="labels", names=["rat"])}
        }
    )
    settings = settings.model_copy(update={"model": "ratlabels", "vision": vision})
    found, frames = run_rat_video(settings, camera, every=1)
    assert [a["code"] for a in found] == ["RODENT"], found
    alert = found[0]
    assert alert["count"] == 1 and alert["severity"] == "T1" and alert["state"] == "firing"
    assert (alert["device_id"], alert["site_id"]) == (CAMERA, SITE)
    assert alert["evidence_url"].startswith("/api/v1/evidence/")
    # the summary in the deployment's language and in every language
    assert alert["summaries"] == {
        "zh-CN": alert["summary"],
        "en": f"RODENT at {SITE}/{CAMERA}",
    }
    assert alert["details"]["rules"]["zh-CN"] == alert["details"]["rule"]
    assert alert["details"]["rules"]["en"].startswith("RODENT: N=")
    rows = check_evidence(settings, alert["id"], "rat")
    assert 1 <= len(rows) <= 2  # the run's first frame and the confirming frame
    assert rows[0]["model"].startswith("ratlabels@")
    snapshot = data_file(settings, f"snapshots/{SITE}/{CAMERA}.jpg")
    recent = {data for ts, data in frames if ts >= frames[-1][0] - 8_000}
    assert snapshot.read_bytes() in recent
    # the review queue got the violation once
    import psycopg

    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        reviews = conn.execute("SELECT code, state FROM review").fetchall()
    assert reviews == [("RODENT", "pending_review")]


def coco_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"model": str(shared_path(*COCO))})


def test_phone_in_view_past_the_window_raises_phone_once(
    settings: Settings, camera: Camera
) -> None:
    """A person holding a phone, one frame a second for 8 s (the rule: 3 of 5 frames and
    3 s): one PHONE alert, counted once, with the phone and the person in its evidence."""
    settings = coco_settings(settings)
    db = settings.database_url.get_secret_value()
    picture = jpeg(cv2.imread(str(shared_path(*PHONE_PICTURE))))
    start = now_ms() - 30_000
    with vision_running(settings):
        camera.frames((start + k * 1000, picture) for k in range(8))
        wait_until(lambda: processed(db, 8), timeout=120, what="8 frames processed")
    phone = alerts(db, "PHONE")
    assert len(phone) == 1 and phone[0]["count"] == 1, phone
    rows = check_evidence(settings, phone[0]["id"], "cell phone")
    # the rule as the reviewer reads it, in the deployment's language (BW_LOCALE, zh-CN)
    assert rows[-1]["rule"].startswith("PHONE：近 M=5 帧中 N=3 帧命中，持续至少 3 秒"), rows[-1]


def test_single_frame_phone_flicker_raises_nothing(settings: Settings, camera: Camera) -> None:
    """The phone picture once among a kitchen's frames: no PHONE alert."""
    settings = coco_settings(settings)
    db = settings.database_url.get_secret_value()
    phone = jpeg(cv2.imread(str(shared_path(*PHONE_PICTURE))))
    kitchen = jpeg(cv2.imread(str(shared_path(*KITCHEN_PICTURE))))
    start = now_ms() - 30_000
    frames = [(start + k * 1000, phone if k == 3 else kitchen) for k in range(10)]
    with vision_running(settings):
        camera.frames(frames)
        wait_until(lambda: processed(db, 10), timeout=120, what="10 frames processed")
    assert alerts(db, "PHONE") == []
    st = processed(db, 10)
    assert st is not None and st.frames == 10


def test_black_frames_for_60s_raise_camera_obstructed_and_clear(
    settings: Settings, camera: Camera
) -> None:
    """Black frames over 65 s of capture time (1 fps) raise CAMERA_OBSTRUCTED, with the
    black frame as evidence; a normal picture afterwards resolves it. 40 s of black
    (lights off) alone would not."""
    db = settings.database_url.get_secret_value()
    settings = coco_settings(settings)
    kitchen = jpeg(cv2.imread(str(shared_path(*KITCHEN_PICTURE))))
    start = now_ms() - 120_000
    with vision_running(settings):
        camera.frames((start + k * 1000, solid(0)) for k in range(40))
        camera.frames((start + 40_000 + k * 1000, kitchen) for k in range(5))
        wait_until(lambda: processed(db, 45), timeout=120, what="45 frames processed")
        assert alerts(db, "CAMERA_OBSTRUCTED") == []
        camera.frames((start + 45_000 + k * 1000, solid(0)) for k in range(66))
        found = wait_until(lambda: alerts(db, "CAMERA_OBSTRUCTED"), timeout=120, what="alert")
        assert len(found) == 1 and found[0]["severity"] == "T2"
        assert found[0]["details"].get("reason") == "very dark"
        ev = evidence(db, found[0]["id"])
        assert ev and ev[0]["retained_until"] is not None  # not reviewed: raw-frame retention
        camera.frames((start + 112_000 + k * 1000, kitchen) for k in range(6))
        wait_until(
            lambda: alerts(db, "CAMERA_OBSTRUCTED")[0]["state"] == "resolved",
            timeout=120,
            what="obstruction resolved",
        )
    assert len(alerts(db, "CAMERA_OBSTRUCTED")) == 1


def test_availability_offline_raises_camera_offline(settings: Settings, camera: Camera) -> None:
    """The agent's will message (`offline`, retained) raises CAMERA_OFFLINE; `online`
    resolves it."""
    db = settings.database_url.get_secret_value()
    with vision_running(settings):
        camera.send("availability", b"online", retain=True)
        camera.frames([(now_ms(), solid(128))])
        wait_until(lambda: processed(db, 1), timeout=60, what="a frame processed")
        camera.send("availability", b"offline", retain=True)
        found = wait_until(lambda: alerts(db, "CAMERA_OFFLINE"), timeout=60, what="offline alert")
        assert found[0]["state"] == "firing" and found[0]["severity"] == "T2"
        assert found[0]["details"]["reason"] == "availability"
        camera.send("availability", b"online", retain=True)
        wait_until(
            lambda: alerts(db, "CAMERA_OFFLINE")[0]["state"] == "resolved",
            timeout=60,
            what="offline resolved",
        )


def test_silence_raises_camera_offline(settings: Settings, camera: Camera) -> None:
    """No frame for `offline_after_s` (2 s here, 300 s by default) with no operating hours
    registered (watched round the clock): CAMERA_OFFLINE by silence, from the ticker."""
    db = settings.database_url.get_secret_value()
    vision = settings.vision.model_copy(update={"offline_after_s": 2.0, "tick_interval_ms": 200})
    settings = settings.model_copy(update={"vision": vision})
    with vision_running(settings):
        camera.frames([(now_ms(), solid(128))])
        found = wait_until(lambda: alerts(db, "CAMERA_OFFLINE"), timeout=60, what="offline alert")
        assert found[0]["details"]["reason"] == "silence"
        camera.frames([(now_ms(), solid(128))])
        wait_until(
            lambda: alerts(db, "CAMERA_OFFLINE")[0]["state"] == "resolved",
            timeout=60,
            what="offline resolved by a frame",
        )
