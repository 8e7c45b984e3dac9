"""Helpers of the camera agent tests: agents on synthetic, file or scripted sources, a
fake clock, messages by channel."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from brightwatch.edge.camera.agent import CameraAgent, CameraConfig
from brightwatch.edge.camera.source import Frame, FrameSource, SourceSpec
from brightwatch.edge.settings import CameraSettings
from brightwatch.mqttlink.client import BrokerAddress
from tests.support.mqtt import Collector, Received


def on(collector: Collector, channel: str) -> list[Received]:
    """The messages of one channel (`frame`, `detections`, `availability`)."""
    return [m for m in list(collector.messages) if m.topic.endswith("/" + channel)]


class FakeClock:
    """Wall time for the agent's capture timestamps, moved by the test."""

    def __init__(self, start_s: float = 1_763_800_000.0) -> None:
        self.now = start_s

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedCapture:
    """Frames from a list, in order (None: the source fails at that point)."""

    def __init__(self, frames: Sequence[np.ndarray | None]) -> None:
        self.frames = list(frames)
        self.k = 0

    def read(self) -> Frame | None:
        if self.k >= len(self.frames):
            return None
        image = self.frames[self.k]
        self.k += 1
        return None if image is None else Frame(image, self.k - 1)

    def close(self) -> None:
        pass


def make_agent(
    port: int,
    root: str,
    data_dir: Path,
    source: str | Sequence[np.ndarray] = "busy",
    *,
    protocol: str = "5",
    settings: CameraSettings | None = None,
    detector: object | None = None,
    clock: FakeClock | None = None,
    fps: float = 1.0,
    loop: bool = False,
) -> CameraAgent:
    """An agent on a synthetic scene (`static`, `busy`, `kitchen`), a file, or a list of
    frames, with a fake clock."""
    if isinstance(source, str) and source in ("static", "busy", "kitchen"):
        spec = SourceSpec("synthetic", source)
        frames = FrameSource(spec, fps, loop=loop)
    elif isinstance(source, str):
        frames = FrameSource(SourceSpec("file", source), fps, loop=loop)
    else:
        scripted = ScriptedCapture(source)
        frames = FrameSource(
            SourceSpec("synthetic", "script"), fps, loop=False, opener=lambda s, f: scripted
        )
    return CameraAgent(
        CameraConfig(
            site_id="K001",
            camera_id="cam1",
            topic_root=root,
            data_dir=data_dir,
            settings=settings or CameraSettings(keepalive_s=30),
            detect=detector is not None,
        ),
        BrokerAddress("127.0.0.1", port, protocol=protocol),
        frames,
        detector,  # type: ignore[arg-type]
        clock=clock or FakeClock(),
    )


def sample(agent: CameraAgent, n: int, clock: FakeClock, step_s: float = 1.0) -> int:
    sent = 0
    for _ in range(n):
        sent += agent.sample()
        clock.advance(step_s)
    return sent


def write_video(path: Path, frames: Sequence[np.ndarray], fps: float = 1.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def decode_jpeg(payload: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a JPEG"
    return image
