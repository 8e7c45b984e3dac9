"""A training copy of a YOLO-format set that ultralytics can read.

Images are symlinked (never copied), labels are rewritten: class ids may be merged into
one class (`single_class`, e.g. the three face-mask classes into `face` for a face
detector whose crops a classifier then judges). The held-out images are those of
`YoloSet.split("val", ...)`, so `vision eval` finds them again from the same seed.
Negatives (`vision.training.negatives`) join the training split only, with empty label
files; the held-out split stays the positive set's own, so its figures compare across runs.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from brightwatch.vision.training.negatives import Negative, write_dark_copy
from brightwatch.vision.yoloset import LabelledImage, YoloSet, write_labels


@dataclass(frozen=True, slots=True)
class PreparedSet:
    data_yaml: Path
    names: tuple[str, ...]
    train: int  # positives' training images, negatives not counted
    val: int
    negatives: int = 0


def prepare_detector_set(
    yset: YoloSet,
    out_dir: Path,
    *,
    holdout: float = 0.2,
    seed: int = 0,
    single_class: str | None = None,
    negatives: Sequence[Negative] = (),
) -> PreparedSet:
    names = (single_class,) if single_class else yset.names
    if out_dir.exists():
        shutil.rmtree(out_dir)
    counts = {}
    for split in ("train", "val"):
        items = yset.split(split, holdout=holdout, seed=seed)
        counts[split] = len(items)
        _link_split(items, out_dir, split, single_class is not None, len(yset.names))
    _add_negatives(negatives, out_dir / "images" / "train", out_dir / "labels" / "train")
    data_yaml = out_dir / "data.yaml"
    data_yaml.write_text(
        yaml.safe_dump(
            {
                "path": str(out_dir.resolve()),
                "train": "images/train",
                "val": "images/val",
                "names": dict(enumerate(names)),
            },
            sort_keys=False,
        )
    )
    (out_dir / "split.json").write_text(
        json.dumps(
            {
                "source": str(yset.root),
                "holdout": holdout,
                "seed": seed,
                "carved": yset.carves_holdout,
                "val_images": sorted(
                    i.image.name for i in yset.split("val", holdout=holdout, seed=seed)
                ),
                "negatives": [
                    {"image": str(n.image), "source": n.source, "dark": n.dark} for n in negatives
                ],
            },
            indent=1,
        )
    )
    return PreparedSet(data_yaml, names, counts["train"], counts["val"], len(negatives))


def _add_negatives(negatives: Sequence[Negative], image_dir: Path, label_dir: Path) -> None:
    """Each negative as `neg<k>-<source>[-dark]-<name>` with an empty label file (an empty
    file, not a missing one, so ultralytics counts it as a background image)."""
    for k, neg in enumerate(negatives):
        stem = f"neg{k:04d}-{neg.source}{'-dark' if neg.dark else ''}-{neg.image.stem}"
        if neg.dark:
            target = image_dir / f"{stem}.jpg"
            write_dark_copy(neg.image, target)
        else:
            target = image_dir / f"{stem}{neg.image.suffix}"
            os.symlink(neg.image.resolve(), target)
        (label_dir / f"{stem}.txt").write_text("")


def _link_split(
    items: list[LabelledImage], out_dir: Path, split: str, merge: bool, n_classes: int
) -> None:
    image_dir = out_dir / "images" / split
    label_dir = out_dir / "labels" / split
    image_dir.mkdir(parents=True)
    label_dir.mkdir(parents=True)
    for item in items:
        target = image_dir / item.image.name
        os.symlink(item.image.resolve(), target)
        labels = item.labels()
        bad = labels.classes[(labels.classes < 0) | (labels.classes >= n_classes)]
        if len(bad):
            raise ValueError(f"{item.label}: class id {int(bad[0])} outside 0..{n_classes - 1}")
        classes = [0] * len(labels) if merge else labels.classes.tolist()
        write_labels(label_dir / (target.stem + ".txt"), classes, labels.xywhn)
