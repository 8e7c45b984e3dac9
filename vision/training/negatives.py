"""Negative images for detector training: pictures without any object of the model's
classes, added to the training split with empty label files (background images, the YOLO
convention), so that a rat detector learns what is *not* a rat (people, faces, kitchens,
night scenes).

A source is a YOLO-format set (its `data.yaml` or a folder holding one), a folder of
images, or a glob. From a set only the `train` split is taken (the same held-out split,
fraction and seed as `vision eval` uses), so its held-out pictures stay free for measuring
false alarms; images with a box of a `skip_classes` class (e.g. `Fire` in the fire set) are
left out. The selection is deterministic: each source ranked by sha256(seed:name), the
sources taken in turn, capped at `ratio` x the positives; a share of the picks is added a
second time darkened (gamma, dimmed, grey) as a night-scene stand-in.

Imports: numpy, cv2 (for the darkened copies) and `vision.yoloset` only.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brightwatch.vision.yoloset import IMAGE_SUFFIXES, DatasetError, list_images, open_set

# a night frame of a kitchen camera: dim, low contrast in the shadows, often IR (grey)
NIGHT_GAMMA = 2.2
NIGHT_GAIN = 0.6


@dataclass(frozen=True, slots=True)
class Negative:
    image: Path
    source: str  # short name of the source, used in the prepared file's name
    dark: bool = False  # add as a darkened copy (written, not linked)


def negative_pool(
    spec: str | Path,
    *,
    holdout: float = 0.2,
    seed: int = 0,
    skip_classes: Sequence[str] = (),
) -> tuple[str, list[Path]]:
    """(source name, candidate images) of one `--negatives` value."""
    path = Path(spec)
    is_set = path.suffix in (".yaml", ".yml") and path.is_file()
    if path.is_dir() and any((path / n).exists() for n in ("data.yaml", "dataset.yaml")):
        is_set = True
    if is_set:
        yset = open_set(path)
        skip = {i for i, name in enumerate(yset.names) if name in set(skip_classes)}
        images = [
            item.image
            for item in yset.split("train", holdout=holdout, seed=seed)
            if not skip or not set(item.labels().classes.tolist()) & skip
        ]
        return yset.root.name, images
    if path.is_dir():
        return path.name, list_images(path)
    matches = sorted(
        Path(p)
        for p in glob.glob(str(spec), recursive=True)
        if Path(p).suffix.lower() in IMAGE_SUFFIXES
    )
    if not matches:
        raise DatasetError(f"negatives {spec}: no labelled set, folder or images matching it")
    return matches[0].parent.name, matches


def select_negatives(
    specs: Sequence[str | Path],
    positives: int,
    *,
    ratio: float = 0.5,
    dark_share: float = 0.25,
    holdout: float = 0.2,
    seed: int = 0,
    skip_classes: Sequence[str] = (),
    exclude: Sequence[Path] = (),
) -> list[Negative]:
    """At most `floor(ratio x positives)` negatives, darkened copies included, taken in
    turn from each source. `exclude` (e.g. the positive set's images) is never picked."""
    if not 0.0 <= ratio <= 10.0:
        raise DatasetError(f"negatives ratio must be between 0 and 10, not {ratio}")
    if not 0.0 <= dark_share < 1.0:
        raise DatasetError(f"share of darkened negatives must be in [0, 1), not {dark_share}")
    cap = int(ratio * positives)
    excluded = {p.resolve() for p in exclude}
    pools: list[tuple[str, list[Path]]] = []
    for spec in specs:
        source, images = negative_pool(spec, holdout=holdout, seed=seed, skip_classes=skip_classes)
        kept = [i for i in images if i.resolve() not in excluded]
        if not kept:
            raise DatasetError(f"negatives {spec}: no usable image (all excluded or filtered)")
        pools.append((source, sorted(kept, key=lambda p: _rank(seed, p))))
    n_dark = int(round(dark_share * cap))
    n_base = cap - n_dark
    chosen: list[Negative] = []
    seen: set[Path] = set()
    depth = 0
    while len(chosen) < n_base and any(depth < len(images) for _, images in pools):
        for source, images in pools:
            if depth < len(images) and len(chosen) < n_base:
                image = images[depth]
                if image.resolve() not in seen:
                    seen.add(image.resolve())
                    chosen.append(Negative(image, source))
        depth += 1
    dark = [Negative(n.image, n.source, dark=True) for n in chosen[: min(n_dark, len(chosen))]]
    return chosen + dark


def darken(image: np.ndarray) -> np.ndarray:
    """A night-time look of a BGR picture: grey, gamma-darkened and dimmed."""
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
    night = np.clip((grey**NIGHT_GAMMA) * NIGHT_GAIN * 255.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(night, cv2.COLOR_GRAY2BGR)


def write_dark_copy(source: Path, target: Path) -> None:
    import cv2

    image = cv2.imread(str(source), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"{source}: not a readable image")
    if not cv2.imwrite(str(target), darken(image)):
        raise DatasetError(f"{target}: could not write the darkened copy")


def _rank(seed: int, image: Path) -> str:
    return hashlib.sha256(f"{seed}:{image.name}".encode()).hexdigest()
