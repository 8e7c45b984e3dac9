"""Motion gating: which sampled frames are worth sending (or running the detector on).

A pure step over state: `step(state, small, now_ms, settings) -> (state, decision)` with
`small` the frame reduced by `small_grey` (a few thousand pixels, blurred, so noise and
compression artefacts do not count). Motion is measured against a running background
(an exponential average), not the previous frame, so a slow walk still registers and a
change that stays (a pot put down) is absorbed after some frames. The keep-alive is a
deadline in the state: the caller reports what it actually sent with `sent()`, so in
edge-detection mode a motion frame with nothing of interest does not reset it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from brightwatch.edge.settings import CameraSettings


@dataclass(frozen=True, slots=True)
class GateState:
    background: np.ndarray | None = None  # float32 small grey image
    keepalive_due_ms: int | None = None  # None: nothing sent yet, the next frame goes


@dataclass(frozen=True, slots=True)
class GateDecision:
    motion: bool
    keepalive: bool  # nothing sent for keepalive_s (or ever)
    changed: float  # share of changed pixels of the small image
    mean_diff: float  # mean absolute grey-level difference from the background

    @property
    def send(self) -> bool:
        return self.motion or self.keepalive


def small_grey(frame: np.ndarray, settings: CameraSettings) -> np.ndarray:
    """The frame as the gate sees it: `gate_width` wide, grey, blurred (uint8)."""
    h, w = frame.shape[:2]
    width = min(settings.gate_width, w)
    height = max(1, round(h * width / w))
    # bilinear from the full frame reads a few pixels per output pixel (0.15 ms for 720p,
    # against 2.6 ms for an area average): the blur below does the averaging that matters
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
    if small.ndim == 3:
        small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    kernel = settings.gate_blur | 1  # odd
    if kernel > 1:
        small = cv2.GaussianBlur(small, (kernel, kernel), 0)
    return small


def step(
    state: GateState, small: np.ndarray, now_ms: int, settings: CameraSettings
) -> tuple[GateState, GateDecision]:
    keepalive = state.keepalive_due_ms is None or now_ms >= state.keepalive_due_ms
    current = small.astype(np.float32)
    background = state.background
    if background is None or background.shape != current.shape:
        # first frame, or the source came back with another size: nothing to compare with
        return GateState(current, state.keepalive_due_ms), GateDecision(False, keepalive, 0.0, 0.0)
    diff = cv2.absdiff(current, background)
    changed = float(np.count_nonzero(diff > settings.pixel_threshold)) / diff.size
    mean_diff = float(diff.mean())
    motion = changed >= settings.changed_ratio or mean_diff >= settings.mean_diff
    alpha = settings.background_alpha
    updated = cv2.addWeighted(background, 1.0 - alpha, current, alpha, 0.0)
    return GateState(updated, state.keepalive_due_ms), GateDecision(
        motion, keepalive, changed, mean_diff
    )


def sent(state: GateState, now_ms: int, settings: CameraSettings) -> GateState:
    """A frame left the agent at `now_ms`: the next keep-alive is due `keepalive_s` later."""
    return GateState(state.background, now_ms + round(settings.keepalive_s * 1000))
