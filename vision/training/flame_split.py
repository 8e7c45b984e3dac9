"""The fire_smoke set split by source, so no held-out picture has a near twin in training.

The set (Roboflow "Cctv-fire", CC BY 4.0, custom-thxhn) holds frames cut from a few videos,
named `<video>_mp4-<n>_jpg.rf.<hash>.jpg`, and pictures `img_<n>...` whose neighbouring
numbers are often near-duplicates (data.yaml). A random split would put a frame in
training and its neighbour in the held-out part, and the AP50 would measure memory. So:

- a video is one source; `img_<n>` pictures are grouped in blocks of `IMG_BLOCK` numbers;
- held out: the videos in `HELD_OUT_VIDEOS` and every `HELD_OUT_EVERY`-th img block;
  img pictures within `GUARD` numbers of a held-out block are dropped from training too;
- reserved: `RESERVED_VIDEO` (a night CCTV street fire, the flame at the left of the frame)
  is kept out of both, to build the FIRE_UNATTENDED test video;
- the whole-frame class `default` is label noise: pictures labelled only with it are left
  out (their content is unknown), and its boxes are dropped elsewhere.

Pure functions of the file names: training, evaluation and tests carve the same split.
Imports: the standard library and `brightwatch.vision.yoloset` only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from brightwatch.vision.yoloset import LabelledImage

RESERVED_VIDEO = "test1"
HELD_OUT_VIDEOS = frozenset({"fire1", "smoke2", "pexels-alan-w-8365989"})
IMG_BLOCK = 20
HELD_OUT_EVERY = 5  # blocks 0, 5, 10, ... (about a fifth of the img pictures)
GUARD = 3  # neighbouring numbers a near-duplicate may sit at

_VIDEO = re.compile(r"^(?P<video>.+?)_mp4-(?P<n>\d+)")
_IMG = re.compile(r"^img_(?P<n>\d+)")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a picture comes from: a video (`number` = frame) or an img number."""

    video: str | None
    number: int

    @property
    def key(self) -> str:
        return f"video:{self.video}" if self.video else f"img-block:{self.number // IMG_BLOCK}"


def source_of(name: str) -> Source:
    """The source of a file name of the set; a name of neither form is an error (a new
    naming would silently land in one split otherwise)."""
    if m := _VIDEO.match(name):
        return Source(m["video"], int(m["n"]))
    if m := _IMG.match(name):
        return Source(None, int(m["n"]))
    raise ValueError(f"{name}: neither <video>_mp4-<n> nor img_<n>; cannot tell its source")


def _held_out_block(block: int) -> bool:
    return block % HELD_OUT_EVERY == 0


def part_of(name: str) -> str:
    """`train`, `held_out`, `reserved` or `guard` (an img picture too close to a held-out
    block to train on, and not held out either)."""
    src = source_of(name)
    if src.video is not None:
        if src.video == RESERVED_VIDEO:
            return "reserved"
        return "held_out" if src.video in HELD_OUT_VIDEOS else "train"
    if _held_out_block(src.number // IMG_BLOCK):
        return "held_out"
    near = {(src.number + d) // IMG_BLOCK for d in range(-GUARD, GUARD + 1) if src.number + d >= 0}
    return "guard" if any(_held_out_block(b) for b in near) else "train"


def split(
    items: Sequence[LabelledImage], default_class: int | None
) -> dict[str, list[LabelledImage]]:
    """The set's pictures by part; pictures labelled only with `default_class` are dropped."""
    parts: dict[str, list[LabelledImage]] = {
        "train": [],
        "held_out": [],
        "reserved": [],
        "guard": [],
    }
    for item in items:
        labels = item.labels()
        if default_class is not None and len(labels) and (labels.classes == default_class).all():
            continue
        parts[part_of(item.image.name)].append(item)
    return parts
