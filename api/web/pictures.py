"""Privacy-filtered public pictures, computed at most every `public_refresh_s` per camera.

The latest raw frame of each camera is `BW_DATA_DIR/snapshots/<site>/<camera>.jpg`, with
the person boxes the vision pipeline found in it in a sidecar beside it (vision.snapshots;
a sidecar of another frame is ignored). Nothing leaves on a public URL without passing
vision.privacy's filter: every face it finds and the head region of every person of the
sidecar are blurred (no sidecar: faces alone). When the face model is missing the
pictures are refused (fail closed), never served raw.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from brightwatch.vision import snapshots
from brightwatch.vision.privacy import (
    Box,
    Filtered,
    PrivacyFilter,
    PrivacyUnavailable,
    default_filter,
)
from brightwatch.vision.snapshots import snapshot_path

log = logging.getLogger(__name__)

JPEG_QUALITY = 80  # of what is served

Stamp = tuple[float, float | None]  # mtimes of the snapshot and of its sidecar


@dataclass
class Picture:
    jpeg: bytes
    made_at: float  # monotonic
    source: Stamp
    faces: int
    heads: int  # head regions of detected persons blurred
    share: float  # of the picture blurred


def serve(
    privacy: PrivacyFilter, image: np.ndarray, persons: Sequence[Box] = ()
) -> tuple[bytes, Filtered] | None:
    """What the public gets for a frame (persons in its pixels): the filtered JPEG."""
    filtered = privacy.apply(image, persons)
    ok, jpeg = cv2.imencode(".jpg", filtered.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return (jpeg.tobytes(), filtered) if ok else None


class PublicPictures:
    def __init__(
        self,
        data_dir: Path,
        face_model: Path | None,
        refresh_s: float,
        max_width: int,
        max_age_s: float,
    ) -> None:
        self.data_dir = data_dir
        self.face_model = face_model
        self.refresh_s = refresh_s
        self.max_width = max_width
        self.max_age_s = max_age_s
        self._filter: PrivacyFilter | None = None
        self._cache: dict[tuple[str, str], Picture] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._pending: set[tuple[str, str]] = set()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="bw-public-pictures")

    def close(self) -> None:
        """Drop the refreshes not started; one running finishes on its own (no wait)."""
        self._worker.shutdown(wait=False, cancel_futures=True)

    def prepare(self) -> None:
        """Load the privacy filter's models in the background, so that the first public
        picture costs a filter pass and not also the models' load (in the demo on 2
        cores: 4.2 s with the load, 3.0 s without; later ones come from the cache while
        the next is filtered). Without a face model nothing is loaded: the pictures are
        refused, as before."""

        def load() -> None:
            try:
                self.privacy_filter()
            except PrivacyUnavailable:
                pass  # each request answers 503 and says why
            except Exception:
                log.exception("public pictures: the privacy filter could not be loaded")

        self._worker.submit(load)

    def privacy_filter(self) -> PrivacyFilter:
        with self._guard:
            if self._filter is None:
                self._filter = default_filter(self.face_model, self.data_dir, self.max_width)
            return self._filter

    def _lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def forget(self) -> None:
        """Drop every cached picture (the next request recomputes)."""
        with self._guard:
            self._cache.clear()

    def get(self, site_id: str, camera_id: str) -> Picture | None:
        """The filtered picture, or None when the camera has no recent frame.

        Stale-while-revalidate: once a camera has a filtered picture, a newer frame is
        filtered in the background (one worker, so the public page cannot take the API's
        CPU) and the previous picture is served meanwhile; that is the delay kitchens.md
        allows. Raises PrivacyUnavailable when no face model is installed."""
        key = (site_id, camera_id)
        stamp = snapshots.stamp(self.data_dir, site_id, camera_id)
        if stamp is None:
            return None
        if time.time() - stamp[0] > self.max_age_s:
            return None  # not live any more: the camera stopped sending
        cached = self._cache.get(key)
        if cached is not None:
            due = time.monotonic() - cached.made_at >= self.refresh_s
            if cached.source != stamp and due:
                self._refresh_later(key, stamp)
            return cached
        return self._refresh(key, stamp)

    def _refresh_later(self, key: tuple[str, str], stamp: Stamp) -> None:
        with self._guard:
            if key in self._pending:
                return
            self._pending.add(key)

        def run() -> None:
            try:
                self._refresh(key, stamp)
            except Exception:
                log.exception("public picture of %s/%s not refreshed", *key)
            finally:
                with self._guard:
                    self._pending.discard(key)

        self._worker.submit(run)

    def _refresh(self, key: tuple[str, str], stamp: Stamp) -> Picture | None:
        with self._lock(key):
            cached = self._cache.get(key)
            if cached is not None and cached.source == stamp:
                return cached  # another request did it meanwhile
            snap = snapshots.read_snapshot(self.data_dir, *key)
            if snap is None:
                return cached
            image = cv2.imdecode(np.frombuffer(snap.jpeg, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                log.warning("unreadable snapshot %s", snapshot_path(self.data_dir, *key))
                return cached
            h, w = image.shape[:2]
            persons = snap.frame.persons_in(w, h) if snap.frame is not None else []
            served = serve(self.privacy_filter(), image, persons)
            if served is None:
                return cached
            jpeg, filtered = served
            picture = Picture(
                jpeg, time.monotonic(), stamp, filtered.faces, filtered.heads, filtered.share
            )
            self._cache[key] = picture
            return picture


__all__ = ["Picture", "PrivacyUnavailable", "PublicPictures", "serve", "snapshot_path"]
