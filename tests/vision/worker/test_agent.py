"""End to end with the real camera agent (edge/camera): agent -> mosquitto -> vision worker
-> PostgreSQL -> alert with evidence, in both of the agent's modes.

- Central inference: the agent sends the frames its motion gate passes (here a person
  holding a phone, moving a little each second); the worker runs COCO on them.
- Edge inference (`--detect`): the agent runs a detector (the rat video's ground-truth
  boxes replayed, in step with the frames it samples) and sends each evidence frame and
  its detections; the worker has no detector of its own.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from brightwatch.edge.settings import CameraSettings
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from brightwatch.vision.detector import load_detector
from tests.conftest import shared_path
from tests.edge.camera_support import FakeClock, make_agent, sample
from tests.support.waiting import wait_until
from tests.vision.worker.support import alerts, data_file, evidence, processed, vision_running
from tests.vision.worker.test_acceptance import (
    COCO,
    PHONE_PICTURE,
    RAT_LABELS,
    RAT_VIDEO,
    rat_model,
)


def test_agent_to_alert_with_central_inference(
    settings: Settings, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"model": str(shared_path(*COCO))})
    db = settings.database_url.get_secret_value()
    picture = cv2.imread(str(shared_path(*PHONE_PICTURE)))
    # the person moves along a little each second: the gate passes every frame
    frames = [np.roll(picture, 12 * k, axis=1) for k in range(8)]
    clock = FakeClock()
    with vision_running(settings):
        agent = make_agent(broker.port, settings.topic_root, tmp_path, frames, clock=clock)
        agent.start()
        sample(agent, 8, clock)
        agent.stop()
        assert agent.counters.frames_sent == 8
        wait_until(lambda: processed(db, 8), timeout=120, what="the agent's 8 frames processed")
    phone = alerts(db, "PHONE")
    assert len(phone) == 1 and phone[0]["count"] == 1, phone
    assert phone[0]["started_at"].timestamp() == clock.now - 8 + 3  # the 4th frame's capture time
    rows = evidence(db, phone[0]["id"])
    assert rows and any(b["label"] == "cell phone" for b in rows[-1]["boxes"])


def test_agent_to_alert_with_edge_inference(
    settings: Settings, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    video = shared_path(*RAT_VIDEO)
    labels = shared_path(*RAT_LABELS)
    # the server has no detector: everything comes from the agent's detections
    settings = settings.model_copy(update={"model": str(tmp_path / "none.onnx")})
    db = settings.database_url.get_secret_value()
    detector = load_detector(str(labels), names=["rat"])
    clock = FakeClock()
    edge = CameraSettings(keepalive_s=30, max_width=320, detect_labels=["rat"])
    with vision_running(settings):
        agent = make_agent(
            broker.port,
            settings.topic_root,
            tmp_path,
            str(video),
            settings=edge,
            detector=detector,
            clock=clock,
            fps=2.0,
        )
        agent.start()
        sample(agent, 20, clock, step_s=0.5)  # 10 s of the video at 2 fps
        agent.stop()
        sent = agent.counters.detections_sent
        assert sent >= 5
        wait_until(lambda: processed(db, sent), timeout=60, what="the agent's detections")
        found = wait_until(lambda: alerts(db, "RODENT"), timeout=30, what="RODENT")
        rows = wait_until(lambda: evidence(db, found[0]["id"]), timeout=30, what="evidence")
    assert len(found) == 1 and found[0]["count"] == 1
    assert rows[-1]["model"] == f"{detector.name}@{detector.version}"
    assert (rows[-1]["width"], rows[-1]["height"]) == (320, 320)
    stored = data_file(settings, rows[-1]["path"]).read_bytes()
    assert cv2.imdecode(np.frombuffer(stored, np.uint8), cv2.IMREAD_COLOR).shape == (320, 320, 3)


def test_agent_on_the_rat_video_with_the_rat_model_raises_one_rodent_alert(
    settings: Settings, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Issue 4's acceptance as deployed: the camera agent pointed at the rat video (33 s,
    sampled at 2 fps, motion-gated), the worker running the trained rat detector: one
    RODENT alert with evidence, not one per frame."""
    model = rat_model()
    settings = settings.model_copy(update={"model": str(model)})
    db = settings.database_url.get_secret_value()
    clock = FakeClock()
    with vision_running(settings):
        agent = make_agent(
            broker.port,
            settings.topic_root,
            tmp_path,
            str(shared_path(*RAT_VIDEO)),
            clock=clock,
            fps=2.0,
        )
        agent.start()
        sample(agent, 66, clock, step_s=0.5)  # the whole video
        agent.stop()
        sent = agent.counters.frames_sent
        assert sent >= 10, "the motion gate passed almost nothing of a moving rat"
        wait_until(lambda: processed(db, sent), timeout=240, what="the agent's frames processed")
        found = wait_until(lambda: alerts(db, "RODENT"), timeout=30, what="RODENT")
        rows = wait_until(lambda: evidence(db, found[0]["id"]), timeout=30, what="evidence")
    assert len(found) == 1 and found[0]["count"] <= 3, found  # one episode, not one per frame
    assert any(b["label"] == "rat" for b in rows[-1]["boxes"])
    assert rows[-1]["model"].startswith("rat@")
