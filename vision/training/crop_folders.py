"""Classification sets as folders of crops: `<root>/<split>/<label>/<picture>`, one
picture per crop (torchvision's ImageFolder layout), as `brightwatch vision
export-reviews` writes them under `classify/`. The trainer takes each picture whole.

The splits are the set's own (`train/`, `val/`: the export keeps an alert's crops in one
split); a set without a `val/` folder has its held-out part carved by file name (the
same rule as `yoloset.holdout_split`).

May import: vision.yoloset, the standard library.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from brightwatch.vision.yoloset import IMAGE_SUFFIXES, DatasetError

SPLITS = ("train", "val")


@dataclass(frozen=True)
class FolderSet:
    root: Path
    names: tuple[str, ...]  # the label folders, sorted: class ids in this order
    splits: dict[str, list[tuple[Path, int]]]  # split -> (picture, class id)


def _pictures(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _label_folders(split: Path) -> list[Path]:
    if not split.is_dir():
        return []
    return sorted(p for p in split.iterdir() if p.is_dir() and _pictures(p))


def is_crop_folders(path: Path) -> bool:
    """A folder laid out as `train/<label>/<picture>` (and no YOLO `data.yaml`)."""
    return (
        path.is_dir()
        and not (path / "data.yaml").exists()
        and not (path / "dataset.yaml").exists()
        and bool(_label_folders(path / "train"))
    )


def _rank(seed: int, picture: Path) -> str:
    return hashlib.sha256(f"{seed}:{picture.parent.name}/{picture.name}".encode()).hexdigest()


def open_folders(path: Path, *, holdout: float = 0.2, seed: int = 0) -> FolderSet:
    """The set at `path`; `holdout` and `seed` carve `val` only when it has no folder."""
    if not is_crop_folders(path):
        raise DatasetError(f"{path}: no crops in the layout train/<label>/<picture>")
    found = {s: {p.name: _pictures(p) for p in _label_folders(path / s)} for s in SPLITS}
    names = tuple(sorted({label for by_label in found.values() for label in by_label}))
    if len(names) < 2:
        raise DatasetError(
            f"{path}: crops of one label only ({', '.join(names)}): a classifier needs two or more"
        )
    ids = {n: k for k, n in enumerate(names)}
    splits = {
        s: [(p, ids[label]) for label, pictures in sorted(found[s].items()) for p in pictures]
        for s in SPLITS
    }
    if not splits["val"]:
        if not 0.0 < holdout < 1.0:
            raise DatasetError(f"holdout fraction must be between 0 and 1, not {holdout}")
        ordered = sorted(splits["train"], key=lambda item: _rank(seed, item[0]))
        n_val = max(1, round(holdout * len(ordered)))
        splits = {"train": sorted(ordered[n_val:]), "val": sorted(ordered[:n_val])}
    return FolderSet(path, names, splits)
