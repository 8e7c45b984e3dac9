"""Synthetic kitchen scenes drawn with OpenCV, for the demo (when no sample media is at
hand), the tests and the gating benchmark.

`KitchenScene.frame(t)` is a pure function of the scene time: a kitchen (a drawn one, or
a photo given as the background) with sensor noise, and a cook crossing the picture
according to the activity: `static` (nobody, nothing moves), `busy` (the cook always
moving) or `kitchen` (work in bursts: 20 s of movement in every minute).
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np

Activity = Literal["static", "busy", "kitchen"]
ACTIVITIES: tuple[Activity, ...] = ("static", "busy", "kitchen")
BUSY_PERIOD_S = 60.0
BUSY_SHARE = 1 / 3


def drawn_kitchen(width: int, height: int) -> np.ndarray:
    """A cooking line: tiled wall, hood, stove with pots, steel counter."""
    img = np.full((height, width, 3), (205, 215, 222), np.uint8)
    tile = max(8, width // 24)
    for x in range(0, width, tile):
        cv2.line(img, (x, 0), (x, height), (180, 190, 198), 1)
    for y in range(0, int(height * 0.55), tile):
        cv2.line(img, (0, y), (width, y), (180, 190, 198), 1)
    counter_top = int(height * 0.55)
    cv2.rectangle(img, (0, counter_top), (width, height), (150, 150, 155), -1)
    cv2.rectangle(img, (0, counter_top), (width, counter_top + 8), (190, 190, 195), -1)
    cv2.rectangle(
        img,
        (int(width * 0.05), int(height * 0.05)),
        (int(width * 0.45), int(height * 0.22)),
        (120, 120, 125),
        -1,
    )
    for k, cx in enumerate((0.12, 0.25, 0.38)):
        centre = (int(width * cx), counter_top - 14)
        cv2.ellipse(img, centre, (width // 18, 12), 0, 0, 360, (40, 40, 45), -1)
        cv2.rectangle(
            img,
            (centre[0] - width // 22, counter_top - 50 - 8 * k),
            (centre[0] + width // 22, counter_top - 14),
            (90, 95, 100),
            -1,
        )
    cv2.rectangle(
        img,
        (int(width * 0.6), counter_top - 30),
        (int(width * 0.8), counter_top),
        (60, 120, 170),
        -1,
    )
    return img


def draw_cook(img: np.ndarray, x: int, y_floor: int, scale: float) -> None:
    """A cook in white with a hat, feet at (x, y_floor)."""
    body_h = int(120 * scale)
    body_w = int(46 * scale)
    head_r = int(16 * scale)
    top = y_floor - body_h
    cv2.rectangle(img, (x - body_w // 2, top), (x + body_w // 2, y_floor), (235, 238, 240), -1)
    cv2.rectangle(img, (x - body_w // 2, top), (x + body_w // 2, y_floor), (90, 90, 90), 1)
    cv2.circle(img, (x, top - head_r), head_r, (120, 160, 215), -1)
    cv2.rectangle(
        img,
        (x - head_r, top - 2 * head_r - int(14 * scale)),
        (x + head_r, top - 2 * head_r + 2),
        (250, 250, 250),
        -1,
    )


class KitchenScene:
    def __init__(
        self,
        activity: Activity = "kitchen",
        width: int = 640,
        height: int | None = None,
        background: np.ndarray | None = None,
        noise: int = 2,
        seed: int = 0,
    ) -> None:
        """`height` defaults to 16:9, or the background photo's aspect."""
        if activity not in ACTIVITIES:
            raise ValueError(f"activity must be one of {', '.join(ACTIVITIES)}")
        self.activity = activity
        self.width = width
        if background is None:
            self.height = height or round(width * 9 / 16)
            self.background = drawn_kitchen(width, self.height)
        else:
            bh, bw = background.shape[:2]
            self.height = height or round(width * bh / bw)
            self.background = cv2.resize(
                background, (width, self.height), interpolation=cv2.INTER_AREA
            )
        self.noise = noise
        self.seed = seed

    def cook_at(self, t: float) -> int | None:
        """The cook's x position at scene time t, or None when nobody is in the picture."""
        if self.activity == "static":
            return None
        phase = t % BUSY_PERIOD_S
        if self.activity == "kitchen" and phase >= BUSY_PERIOD_S * BUSY_SHARE:
            return None
        # walks to and fro along the line, about a fifth of the width per second
        span = self.width * 0.8
        u = (t * self.width * 0.2 / span) % 2.0
        pos = u if u <= 1.0 else 2.0 - u
        return int(self.width * 0.1 + span * pos)

    def frame(self, t: float) -> np.ndarray:
        img = self.background.copy()
        x = self.cook_at(t)
        if x is not None:
            scale = self.height / 360
            # the arms move with the work even while the cook stands still
            arm = int(20 * scale * math.sin(t * 3.0))
            floor = int(self.height * 0.95)
            draw_cook(img, x, floor, scale)
            cv2.line(
                img,
                (x, floor - int(90 * scale)),
                (x + int(40 * scale), floor - int(80 * scale) + arm),
                (235, 238, 240),
                max(2, int(10 * scale)),
            )
        if self.noise:
            rng = np.random.default_rng((self.seed, round(t * 1000)))
            jitter = rng.integers(-self.noise, self.noise + 1, img.shape[:2], dtype=np.int16)
            img = np.clip(img.astype(np.int16) + jitter[..., None], 0, 255).astype(np.uint8)
        return img
