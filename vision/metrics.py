"""Prometheus metrics of the vision worker (prefix `brightwatch_vision_`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INFERRED_FRAMES = Counter(
    "brightwatch_vision_inferred_frames",
    "Frames run through the detectors (central inference); its rate is the frames per second done.",
)
INFERENCE_SECONDS = Histogram(
    "brightwatch_vision_inference_seconds",
    "Detector and classifier time of one batch of frames.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
DETECTOR_FPS = Gauge(
    "brightwatch_vision_detector_fps",
    "Frames per second of detector time in the last inferred batch: what the node can sustain.",
)
FRAME_QUEUE = Gauge(
    "brightwatch_vision_frame_queue",
    "Camera messages (mostly frames) received from the broker and waiting for the worker.",
)
SHED_FRAMES = Counter(
    "brightwatch_vision_frames_shed",
    "Frames for central inference not inferred: the worker was behind and they came later"
    " than `[vision] shed_after_s` (the node is over its capacity); looked at for presence"
    " and picture health only.",
)
