"""YOLO-format labelled sets: `data.yaml`, `images/<split>/*.jpg`, `labels/<split>/*.txt`.

Shared by training (which writes a prepared copy for ultralytics) and evaluation (which
reads the held-out part). A label line is `class cx cy w h`, normalised to the image size.
A missing label file means "no objects" (the YOLO convention for background images).

The held-out split is a pure function of the file names, the fraction and the seed, so
`vision train` and `vision eval` carve the same validation images without sharing state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


class DatasetError(ValueError):
    """A labelled set that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Labels:
    """Ground truth of one image: class ids and boxes, normalised centre format."""

    classes: np.ndarray  # (n,) int
    xywhn: np.ndarray  # (n, 4) float: cx, cy, w, h in 0..1

    def __len__(self) -> int:
        return len(self.classes)

    def xyxy(self, width: int, height: int) -> np.ndarray:
        """Boxes in pixels (x1, y1, x2, y2) of an image of the given size."""
        return xywhn_to_xyxy(self.xywhn, width, height)


EMPTY_LABELS = Labels(np.zeros(0, dtype=np.int64), np.zeros((0, 4), dtype=np.float64))


@dataclass(frozen=True, slots=True)
class LabelledImage:
    image: Path
    label: Path  # may not exist: no objects

    def labels(self) -> Labels:
        return read_labels(self.label)


@dataclass(frozen=True, slots=True)
class YoloSet:
    """A labelled set: class names by id and the images of each split named in the yaml."""

    root: Path
    names: tuple[str, ...]
    splits: dict[str, tuple[LabelledImage, ...]]

    def split(self, which: str, *, holdout: float = 0.2, seed: int = 0) -> list[LabelledImage]:
        """`train`, `val` or `all`. When the yaml names one folder for both (a set shipped
        with a train split only), `val` is the held-out part carved by `holdout_split` and
        `train` the rest; otherwise the yaml's own folders are used."""
        if which == "all":
            seen: dict[Path, LabelledImage] = {}
            for items in self.splits.values():
                for item in items:
                    seen.setdefault(item.image, item)
            return sorted(seen.values(), key=lambda i: i.image)
        train = list(self.splits.get("train", ()))
        val = list(self.splits.get("val", ()))
        if which not in ("train", "val"):
            raise DatasetError(f"unknown split {which!r} (train, val or all)")
        if val and {i.image for i in val} != {i.image for i in train}:
            return train if which == "train" else val
        kept, held = holdout_split(train or val, holdout, seed)
        return kept if which == "train" else held

    @property
    def carves_holdout(self) -> bool:
        """True when `val` is carved from `train` rather than a folder of its own."""
        train = {i.image for i in self.splits.get("train", ())}
        val = {i.image for i in self.splits.get("val", ())}
        return not val or val == train


def holdout_split(
    items: Sequence[LabelledImage], fraction: float, seed: int
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """(kept, held out): the held-out images are the `round(fraction * n)` with the
    smallest sha256(seed:name). Stable when files are added, independent of order."""
    if not 0.0 < fraction < 1.0:
        raise DatasetError(f"holdout fraction must be between 0 and 1, not {fraction}")

    def rank(item: LabelledImage) -> str:
        return hashlib.sha256(f"{seed}:{item.image.name}".encode()).hexdigest()

    ordered = sorted(items, key=rank)
    n_val = max(1, round(fraction * len(ordered))) if ordered else 0
    held = sorted(ordered[:n_val], key=lambda i: i.image)
    kept = sorted(ordered[n_val:], key=lambda i: i.image)
    return kept, held


def read_labels(path: Path) -> Labels:
    if not path.exists():
        return EMPTY_LABELS
    rows: list[list[float]] = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5:
            # segment polygons (class x1 y1 x2 y2 ...) become their bounding box
            if len(parts) >= 7 and len(parts) % 2 == 1:
                xy = np.array(parts[1:], dtype=np.float64).reshape(-1, 2)
                (x1, y1), (x2, y2) = xy.min(0), xy.max(0)
                parts = [
                    parts[0],
                    str((x1 + x2) / 2),
                    str((y1 + y2) / 2),
                    str(x2 - x1),
                    str(y2 - y1),
                ]
            else:
                raise DatasetError(f"{path}:{lineno}: expected 'class cx cy w h', got {line!r}")
        try:
            values = [float(p) for p in parts]
        except ValueError as exc:
            raise DatasetError(f"{path}:{lineno}: {exc}") from None
        if values[0] < 0 or values[0] != int(values[0]):
            raise DatasetError(f"{path}:{lineno}: class id must be a non-negative integer")
        rows.append(values)
    if not rows:
        return EMPTY_LABELS
    arr = np.asarray(rows, dtype=np.float64)
    return Labels(arr[:, 0].astype(np.int64), np.clip(arr[:, 1:5], 0.0, 1.0))


def write_labels(path: Path, classes: Sequence[int], xywhn: np.ndarray) -> None:
    lines = [
        f"{int(c)} {x:.6f} {y:.6f} {w:.6f} {h:.6f}"
        for c, (x, y, w, h) in zip(classes, np.asarray(xywhn).reshape(-1, 4), strict=True)
    ]
    path.write_text("".join(line + "\n" for line in lines))


def xywhn_to_xyxy(xywhn: np.ndarray, width: int, height: int) -> np.ndarray:
    b = np.asarray(xywhn, dtype=np.float64).reshape(-1, 4)
    out = np.empty_like(b)
    out[:, 0] = (b[:, 0] - b[:, 2] / 2) * width
    out[:, 1] = (b[:, 1] - b[:, 3] / 2) * height
    out[:, 2] = (b[:, 0] + b[:, 2] / 2) * width
    out[:, 3] = (b[:, 1] + b[:, 3] / 2) * height
    return out


def label_path_for(image: Path) -> Path:
    """The ultralytics convention: the last `images` folder becomes `labels`, suffix .txt."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts).with_suffix(".txt")
    return image.with_suffix(".txt")


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def _names(raw: Any, source: Path) -> tuple[str, ...]:
    if isinstance(raw, dict):
        ids = sorted(int(k) for k in raw)
        if ids != list(range(len(ids))):
            raise DatasetError(f"{source}: class ids in 'names' must be 0..n-1")
        return tuple(str(raw[k] if k in raw else raw[str(k)]) for k in ids)
    if isinstance(raw, list | tuple):
        return tuple(str(n) for n in raw)
    raise DatasetError(f"{source}: 'names' must be a list or a mapping of id -> name")


def open_set(path: str | Path) -> YoloSet:
    """A set from its `data.yaml`, or a folder holding one, or a bare folder with
    `images/` and `labels/` (names then come from `classes.txt` when present)."""
    import yaml

    path = Path(path)
    if path.is_dir():
        yaml_files = [p for p in (path / "data.yaml", path / "dataset.yaml") if p.exists()]
        if not yaml_files:
            return _bare_folder(path)
        path = yaml_files[0]
    if not path.exists():
        raise DatasetError(f"no labelled set at {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DatasetError(f"{path}: not valid YAML ({exc})") from None
    if "names" not in data:
        raise DatasetError(f"{path}: no 'names'")
    names = _names(data["names"], path)
    root = path.parent / str(data.get("path") or ".")
    splits: dict[str, tuple[LabelledImage, ...]] = {}
    for split in ("train", "val", "test"):
        entry = data.get(split)
        if not entry:
            continue
        images: list[Path] = []
        for rel in entry if isinstance(entry, list) else [entry]:
            folder = root / str(rel)
            if folder.is_file() and folder.suffix == ".txt":
                images += [
                    (folder.parent / line.strip()).resolve()
                    if line.strip().startswith("./")
                    else Path(line.strip())
                    for line in folder.read_text().splitlines()
                    if line.strip()
                ]
            elif folder.is_dir():
                images += list_images(folder)
            else:
                raise DatasetError(f"{path}: {split} folder {folder} does not exist")
        splits[split] = tuple(LabelledImage(i, label_path_for(i)) for i in images)
    if not any(splits.values()):
        raise DatasetError(f"{path}: no images in any split")
    return YoloSet(root=root.resolve(), names=names, splits=splits)


def _bare_folder(folder: Path) -> YoloSet:
    images_dir = folder / "images"
    if not images_dir.is_dir():
        raise DatasetError(f"{folder}: no data.yaml and no images/ folder")
    classes_txt = folder / "classes.txt"
    images = list_images(images_dir)
    if classes_txt.exists():
        names = tuple(n.strip() for n in classes_txt.read_text().splitlines() if n.strip())
    else:
        top = -1
        for image in images:
            labels = read_labels(label_path_for(image))
            if len(labels):
                top = max(top, int(labels.classes.max()))
        names = tuple(str(i) for i in range(top + 1))
    items = tuple(LabelledImage(i, label_path_for(i)) for i in images)
    return YoloSet(root=folder.resolve(), names=names, splits={"train": items})
