"""Frames from a camera's source, sampled at the agent's rate, reopened when it fails.

Sources (`parse_source`): a video file (played in scene time and looped when asked: the
sample k is the file's frame at k / fps seconds, so a file plays at its own speed), a
still image (the same picture every time: a static scene), an RTSP/HTTP URL or a device
(a reader thread keeps the latest frame, as an NVR stream must be read continuously), and
`synthetic:<activity>` scenes (`scenes.KitchenScene`). `FrameSource` reopens a failed
source with exponential back-off and logs the first failure, then at most once a minute.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from brightwatch.edge.camera.scenes import ACTIVITIES, KitchenScene

log = logging.getLogger(__name__)

SourceKind = Literal["file", "image", "stream", "device", "synthetic"]
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
FAILURE_LOG_EVERY_S = 60.0
FIRST_FRAME_WAIT_S = 10.0
STREAM_TIMEOUT_MS = 10_000


class SourceError(ValueError):
    """A source that cannot be used; the message says which and why (no credentials)."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: SourceKind
    target: str

    def __str__(self) -> str:
        if self.kind == "synthetic":
            return f"synthetic:{self.target}"
        if self.kind != "stream":
            return self.target
        parts = urlsplit(self.target)  # never the password of rtsp://user:pass@host
        host = parts.hostname or ""
        netloc = host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True, slots=True)
class Frame:
    image: np.ndarray  # BGR
    index: int  # frame number in a file or scene (labels replay keeps in step); -1 live


def parse_source(text: str) -> SourceSpec:
    """FILE | rtsp://... | DEVICE (an index or /dev/videoN) | synthetic:<activity>."""
    text = text.strip()
    if not text:
        raise SourceError("empty source")
    if text.isdigit():
        return SourceSpec("device", text)
    if text.startswith("synthetic:"):
        activity = text.split(":", 1)[1] or "kitchen"
        if activity not in ACTIVITIES:
            raise SourceError(
                f"unknown synthetic scene {activity!r} (known: {', '.join(ACTIVITIES)})"
            )
        return SourceSpec("synthetic", activity)
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme:
        if scheme.group(1).lower() not in STREAM_SCHEMES:
            raise SourceError(
                f"unsupported URL scheme {scheme.group(1)!r} (use {', '.join(STREAM_SCHEMES)})"
            )
        if not urlsplit(text).hostname:
            raise SourceError("stream URL without a host")
        return SourceSpec("stream", text)
    if text.startswith("/dev/video"):
        return SourceSpec("device", text)
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"no such file: {path}")
    if path.is_dir():
        raise SourceError(f"{path} is a folder, not a video or an image")
    kind: SourceKind = "image" if path.suffix.lower() in IMAGE_SUFFIXES else "file"
    return SourceSpec(kind, str(path))


class Capture(Protocol):
    def read(self) -> Frame | None:
        """The next sample, or None when the source ended or failed."""
        ...

    def close(self) -> None: ...


class FileCapture:
    """A video file sampled in scene time: sample k is the frame at k / fps seconds."""

    def __init__(self, path: str, fps: float) -> None:
        self.capture = cv2.VideoCapture(path)
        if not self.capture.isOpened():
            raise SourceError(f"{path}: cannot be opened as a video")
        file_fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.file_fps = file_fps if file_fps and math.isfinite(file_fps) and file_fps > 0 else 25.0
        self.fps = fps
        self.samples = 0
        self.position = 0  # index of the next frame the capture returns
        self.last: Frame | None = None

    def read(self) -> Frame | None:
        target = math.floor(self.samples * self.file_fps / self.fps + 1e-9)
        self.samples += 1
        if target < self.position and self.last is not None:
            return self.last  # sampling faster than the file: the same frame again
        while self.position < target:
            if not self.capture.grab():  # decodes nothing we keep
                return None
            self.position += 1
        ok, image = self.capture.read()
        if not ok:
            return None
        self.position += 1
        self.last = Frame(image, target)
        return self.last

    def close(self) -> None:
        self.capture.release()


class StillCapture:
    def __init__(self, path: str) -> None:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise SourceError(f"{path}: cannot be read as an image")
        self.image = image
        self.samples = 0

    def read(self) -> Frame | None:
        self.samples += 1
        return Frame(self.image, self.samples - 1)

    def close(self) -> None:
        pass


class SceneCapture:
    def __init__(self, scene: KitchenScene, fps: float) -> None:
        self.scene = scene
        self.fps = fps
        self.samples = 0

    def read(self) -> Frame | None:
        k = self.samples
        self.samples += 1
        return Frame(self.scene.frame(k / self.fps), k)

    def close(self) -> None:
        pass


class LiveCapture:
    """A stream or device read continuously by a thread; a sample is the latest frame."""

    def __init__(self, spec: SourceSpec) -> None:
        if spec.kind == "stream":
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
            ]
            capture = cv2.VideoCapture(spec.target, cv2.CAP_FFMPEG, params)
        else:
            capture = cv2.VideoCapture(int(spec.target) if spec.target.isdigit() else spec.target)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open {spec.kind} {spec}")
        self._capture = capture
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None
        self._first = threading.Event()
        self._closed = threading.Event()
        self.failed = False
        self._thread = threading.Thread(target=self._run, name=f"camera-read-{spec}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._closed.is_set():
                ok, image = self._capture.read()
                if not ok:
                    self.failed = True
                    break
                with self._lock:
                    self._latest = image
                self._first.set()
        finally:
            self._capture.release()  # here: releasing under a blocked read() is unsafe
            self._first.set()

    def read(self) -> Frame | None:
        self._first.wait(FIRST_FRAME_WAIT_S)
        if self.failed:
            return None
        with self._lock:
            image, self._latest = self._latest, None
        if image is None:
            # no new frame since the last sample: a stalled stream counts as failed
            self.failed = not self._thread.is_alive() or not self._wait_new(FIRST_FRAME_WAIT_S)
            if self.failed:
                return None
            with self._lock:
                image, self._latest = self._latest, None
        return Frame(image, -1) if image is not None else None

    def _wait_new(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._closed.is_set():
            with self._lock:
                if self._latest is not None:
                    return True
            if not self._thread.is_alive():
                return False
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self._closed.set()
        self._thread.join(STREAM_TIMEOUT_MS / 1000 + 1)


def open_capture(
    spec: SourceSpec, fps: float, *, background: np.ndarray | None = None, seed: int = 0
) -> Capture:
    """The capture of a source; SourceError when it cannot be opened."""
    if spec.kind == "file":
        return FileCapture(spec.target, fps)
    if spec.kind == "image":
        return StillCapture(spec.target)
    if spec.kind == "synthetic":
        activity = next(a for a in ACTIVITIES if a == spec.target)
        return SceneCapture(KitchenScene(activity, background=background, seed=seed), fps)
    return LiveCapture(spec)


Opener = Callable[[SourceSpec, float], Capture]


class FrameSource:
    """Sampled frames from a source that reopens itself with back-off when it fails.

    `read()` returns a frame, or None while the source is down (or has ended: `ended`)."""

    def __init__(
        self,
        spec: SourceSpec,
        fps: float,
        *,
        loop: bool = True,
        reconnect_min_s: float = 1.0,
        reconnect_max_s: float = 30.0,
        opener: Opener = open_capture,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.fps = fps
        self.loop = loop
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = max(reconnect_max_s, reconnect_min_s)
        self.opener = opener
        self.monotonic = monotonic
        self.ended = False
        self.failures = 0  # consecutive
        self.reopened = 0
        self._capture: Capture | None = None
        self._retry_at = 0.0
        self._last_log = -math.inf
        self._down_since: float | None = None

    def open(self) -> None:
        """Open now; raises SourceError (for a first check of the source)."""
        self._capture = self.opener(self.spec, self.fps)

    def read(self) -> Frame | None:
        if self.ended:
            return None
        if self._capture is None:
            if self.monotonic() < self._retry_at:
                return None
            try:
                self.open()
            except SourceError as exc:
                self._failed(str(exc))
                return None
        assert self._capture is not None
        frame = self._capture.read()
        if frame is None and self.spec.kind in ("file", "image", "synthetic"):
            self._close()
            if not self.loop:
                self.ended = True
                log.info("source %s ended", self.spec)
                return None
            try:
                self.open()  # from the start again
            except SourceError as exc:
                self._failed(str(exc))
                return None
            assert self._capture is not None
            frame = self._capture.read()
            if frame is None:
                self._close()
                self._failed("no frame at the start of the file")
                return None
        elif frame is None:
            self._close()
            self._failed("no frame (stream ended, stalled or the device went away)")
            return None
        if self.failures:
            down = self.monotonic() - (self._down_since or self.monotonic())
            log.info(
                "source %s is back after %d failure(s), %.0f s", self.spec, self.failures, down
            )
            self.failures = 0
            self._down_since = None
            self.reopened += 1
        return frame

    def _failed(self, reason: str) -> None:
        now = self.monotonic()
        self.failures += 1
        if self._down_since is None:
            self._down_since = now
        delay = min(self.reconnect_max_s, self.reconnect_min_s * 2 ** (self.failures - 1))
        self._retry_at = now + delay
        if self.failures == 1 or now - self._last_log >= FAILURE_LOG_EVERY_S:
            self._last_log = now
            log.warning(
                "source %s: %s (%d failure(s)); retrying in %.0f s",
                self.spec,
                reason,
                self.failures,
                delay,
            )

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.close()
            self._capture = None

    def close(self) -> None:
        self._close()
