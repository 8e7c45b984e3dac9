"""Frames from files for the offline tools: images, folders of images, video files."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from brightwatch.vision.yoloset import IMAGE_SUFFIXES, list_images

T = TypeVar("T")
_END = object()

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


def read_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """`items` in order, produced on a thread up to `depth` ahead of the caller: the next
    picture is read and decoded (OpenCV releases the GIL) while the caller's detector works
    on this one. An error while producing is raised here, after the items before it;
    closing the iterator early stops the thread."""
    ready: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry: tuple[bool, object]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((True, item)):
                    return
        except Exception as exc:  # handed to the caller, raised there
            offer((False, exc))
            return
        offer((True, _END))

    thread = threading.Thread(target=produce, name="bw-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, value = ready.get()
            if not ok:
                assert isinstance(value, Exception)
                raise value
            if value is _END:
                return
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(5)
