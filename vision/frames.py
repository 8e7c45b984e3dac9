"""Frames from files for the offline tools: images, folders of images, video files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from brightwatch.vision.yoloset import IMAGE_SUFFIXES, list_images

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".ts"})


class FrameSourceError(ValueError):
    pass


def frames_of(
    sources: Iterable[Path], *, every: int = 1, max_frames: int | None = None
) -> Iterator[tuple[str, np.ndarray]]:
    """(key, BGR image): `path` for images, `path#frame` for video frames."""
    for source in sources:
        if source.is_dir():
            files = list_images(source)
            if not files:
                raise FrameSourceError(f"no images in {source}")
            for file in files:
                yield str(file), _image(file)
        elif source.suffix.lower() in IMAGE_SUFFIXES:
            yield str(source), _image(source)
        elif source.suffix.lower() in VIDEO_SUFFIXES:
            yield from _video(source, every, max_frames)
        else:
            raise FrameSourceError(f"{source}: not an image, a folder or a video")


def _image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FrameSourceError(f"cannot read image {path}")
    return image


def _video(path: Path, every: int, max_frames: int | None) -> Iterator[tuple[str, np.ndarray]]:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise FrameSourceError(f"cannot open video {path}")
    try:
        index = emitted = 0
        while max_frames is None or emitted < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                yield f"{path}#{index}", frame
                emitted += 1
            index += 1
    finally:
        capture.release()
