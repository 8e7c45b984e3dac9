"""What an evaluation runs over: the images of a YOLO-format set (one split, or the
held-out part carved as training carves it) or the frames of a labelled video, with the
names that label the output folder and the metrics.json."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from brightwatch.vision.evaluation.runner import Sample, images_of, merge_classes, video_frames
from brightwatch.vision.yoloset import LabelledImage, open_set


@dataclass(frozen=True)
class LabelledSource:
    names: list[str]  # class names by the ids of the ground truth
    samples: Iterable[Sample]  # read lazily, once
    total: int | None  # for the progress bar; None when unknown (a video without a limit)
    label: str  # the source's part of the default output folder
    about: dict[str, object]  # where the samples come from, as metrics.json records it
    # the set's images, whose boxes a classifier alone is judged on; None for a video
    images: list[LabelledImage] | None = None


def open_labelled_set(
    data: Path,
    *,
    split: str,
    holdout: float,
    seed: int,
    limit: int | None = None,
    single_class: str | None = None,
) -> LabelledSource:
    """`single_class` folds every class into one, for a detector trained that way (faces
    from the face-mask set). Raises DatasetError for a set that cannot be read."""
    yset = open_set(data)
    items = yset.split(split, holdout=holdout, seed=seed)[:limit]
    names = list(yset.names)
    samples: Iterable[Sample] = images_of(items)
    label = f"{yset.root.name}-{split}"
    if single_class:
        names = [single_class]
        samples = merge_classes(samples)
        label += f"-{single_class}"
    about: dict[str, object] = {
        "data": str(yset.root),
        "split": split,
        "holdout": holdout,
        "seed": seed,
    }
    return LabelledSource(names, samples, len(items), label, about, images=items)


def open_labelled_video(
    video: Path, labels: Path, names: Sequence[str], *, limit: int | None = None
) -> LabelledSource:
    """Frames of `video` with their per-frame label files (EvaluationError, when the
    samples are read, for a folder without numbered label files or a video that will
    not open)."""
    return LabelledSource(
        list(names),
        itertools.islice(video_frames(video, labels), limit),
        limit,
        video.stem[:40],
        {"video": str(video), "labels": str(labels)},
    )
