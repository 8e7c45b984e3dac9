"""Privacy-filtered public pictures, computed at most every `public_refresh_s` per camera.

The latest raw frame of each camera is `BW_DATA_DIR/snapshots/<site>/<camera>.jpg`
(written by the vision pipeline). Nothing leaves on a public URL without passing
vision.privacy's filter; when the face model is missing the pictures are refused
(fail closed), never served raw.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from brightwatch.vision.privacy import PrivacyFilter, PrivacyUnavailable, default_filter

log = logging.getLogger(__name__)


def snapshot_path(data_dir: Path, site_id: str, camera_id: str) -> Path:
    return data_dir / "snapshots" / site_id / f"{camera_id}.jpg"


@dataclass
class Picture:
    jpeg: bytes
    made_at: float  # monotonic
    source_mtime: float
    faces: int


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
        src = snapshot_path(self.data_dir, site_id, camera_id)
        key = (site_id, camera_id)
        try:
            mtime = src.stat().st_mtime
        except OSError:
            return None
        if time.time() - mtime > self.max_age_s:
            return None  # not live any more: the camera stopped sending
        cached = self._cache.get(key)
        if cached is not None:
            due = time.monotonic() - cached.made_at >= self.refresh_s
            if cached.source_mtime != mtime and due:
                self._refresh_later(key, src, mtime)
            return cached
        return self._refresh(key, src, mtime)

    def _refresh_later(self, key: tuple[str, str], src: Path, mtime: float) -> None:
        with self._guard:
            if key in self._pending:
                return
            self._pending.add(key)

        def run() -> None:
            try:
                self._refresh(key, src, mtime)
            except Exception:
                log.exception("public picture of %s/%s not refreshed", *key)
            finally:
                with self._guard:
                    self._pending.discard(key)

        self._worker.submit(run)

    def _refresh(self, key: tuple[str, str], src: Path, mtime: float) -> Picture | None:
        with self._lock(key):
            cached = self._cache.get(key)
            if cached is not None and cached.source_mtime == mtime:
                return cached  # another request did it meanwhile
            try:
                raw = np.frombuffer(src.read_bytes(), np.uint8)
            except OSError:
                return cached
            image = cv2.imdecode(raw, cv2.IMREAD_COLOR)
            if image is None:
                log.warning("unreadable snapshot %s", src)
                return cached
            filtered = self.privacy_filter().apply(image)
            ok, jpeg = cv2.imencode(".jpg", filtered.image, [cv2.IMWRITE_JPEG_QUALITY, 80])
            if not ok:
                return cached
            picture = Picture(jpeg.tobytes(), time.monotonic(), mtime, filtered.faces)
            self._cache[key] = picture
            return picture


__all__ = ["Picture", "PrivacyUnavailable", "PublicPictures", "snapshot_path"]
