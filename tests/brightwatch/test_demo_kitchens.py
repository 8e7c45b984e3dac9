"""The demo's kitchen cameras: one agent per kitchen publishing frames, a clean stop."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import cv2
import numpy as np

from brightwatch.demo import SIMULATORS
from brightwatch.demo_kitchens import camera_agents, simulate_kitchens
from brightwatch.edge.settings import CameraSettings, EdgeSettings
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from tests.support.mqtt import Collector
from tests.support.waiting import wait_until


def demo_settings(broker: EmbeddedBroker, tmp_path: Path, fps: float = 4.0) -> Settings:
    return Settings(
        mqtt_url=broker.url,
        mqtt_protocol=broker.protocol,
        topic_root=f"t{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path,
        edge=EdgeSettings(camera=CameraSettings(fps=fps)),
    )


def test_each_kitchen_camera_sends_frames_and_stops_cleanly(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    assert SIMULATORS["kitchens"] is simulate_kitchens
    settings = demo_settings(broker, tmp_path)
    root = settings.topic_root
    stop = threading.Event()
    with Collector(broker.port, [f"{root}/kitchens/#"]) as sub:
        runner = threading.Thread(
            target=simulate_kitchens, args=(settings, {"kitchens": ["K001", "K002"]}, stop)
        )
        runner.start()
        try:
            for site in ("K001", "K002"):
                wait_until(
                    lambda site=site: sub.on(f"{root}/kitchens/{site}/cameras/cam1/frame"),
                    30,
                    what=f"frames of {site}",
                )
        finally:
            stop.set()
            runner.join(30)
        assert not runner.is_alive()
        wait_until(
            lambda: len([m for m in sub.messages if m.payload == b"offline"]) == 2,
            10,
            what="both cameras offline",
        )
        frame = sub.on(f"{root}/kitchens/K001/cameras/cam1/frame")[0]
        assert "ts" in frame.properties
        image = cv2.imdecode(np.frombuffer(frame.payload, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == 640


def test_without_shared_media_the_scenes_are_drawn(broker: EmbeddedBroker, tmp_path: Path) -> None:
    settings = demo_settings(broker, tmp_path)
    (agent,) = camera_agents(settings, ["K001"], photos_folder=tmp_path / "absent")
    frame = agent.source.read()
    assert frame is not None and frame.image.shape == (360, 640, 3)
    agent.source.close()
    agent.spool.close()
