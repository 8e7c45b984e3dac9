"""Frames from a camera's source, sampled at the agent's rate, reopened when it fails.

Sources (`parse_source`): a video file (played in scene time and looped when asked: the
sample k is the file's frame at k / fps seconds, so a file plays at its own speed), a
still image (the same picture every time: a static scene), an RTSP/HTTP URL or a device
(a reader thread keeps the latest frame, as an NVR stream must be read continuously), and
`synthetic:<activity>` scenes (`scenes.KitchenScene`). `FrameSource` reopens a failed
source with exponential back-off and logs the first failure, then at most once a minute.

Decoding is most of what a static scene costs, so the captures decode as little as the
gate needs (issue 13): an MJPEG file or stream is read as compressed pictures and the gate
gets a reduced grey decode (JPEG DCT scaling, 1/2 to 1/8), the full picture being decoded
only for a frame that is sent; a live stream is grabbed continuously and converted only
when sampled; with a sub-stream (`gate_source`: the camera's low-resolution stream, same
scene), the gate looks at the sub-stream and the main stream is decoded only for the frames
sent (a file seeks to the frame; a live main stream is opened on demand and kept open while
frames are taken from it).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import re
import tempfile
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
GATE_WIDTH = 96  # CameraSettings.gate_width's default
# OpenCV's seek decodes at least 16 frames before the target: forward by `grab` up to this
SEEK_AFTER_FRAMES = 24
MAIN_HOLD_S = 10.0  # CameraSettings.main_hold_s's default
MAIN_RETRY_S = 5.0  # a main stream that could not be opened is not tried again before
DECODE_THREADS = 1  # CameraSettings.decode_threads's default
# JPEG DCT scaling: the largest reduction that still leaves the gate its width
REDUCED_GREY = (
    (8, cv2.IMREAD_REDUCED_GRAYSCALE_8),
    (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
    (2, cv2.IMREAD_REDUCED_GRAYSCALE_2),
)


class SourceError(ValueError):
    """A source that cannot be used; the message says which and why (no credentials)."""


class FrameUnavailable(RuntimeError):
    """A frame's full picture could not be decoded (main stream away, corrupt picture)."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: SourceKind
    target: str
    gate: SourceSpec | None = None  # the camera's low-resolution sub-stream, for the gate

    def __str__(self) -> str:
        if self.kind == "synthetic":
            return f"synthetic:{self.target}"
        if self.kind != "stream":
            return self.target
        parts = urlsplit(self.target)  # never the password of rtsp://user:pass@host
        host = parts.hostname or ""
        netloc = host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Frame:
    """A sampled frame: `image` (BGR, full size) is decoded on first use when the capture
    gave a way to decode it rather than the picture; `small` is what the gate looks at when
    the capture has something cheaper than the full picture (a reduced grey decode, the
    sub-stream's picture). `index`: frame number in a file or scene (a labels replay keeps
    in step), -1 live. `sub`: the sub-stream's own frame when the gate looks at one (a
    keep-alive can be sent from it without decoding the main stream)."""

    __slots__ = ("_decode", "_image", "index", "small", "sub")

    def __init__(
        self,
        image: np.ndarray | None,
        index: int,
        *,
        decode: Callable[[], np.ndarray | None] | None = None,
        small: np.ndarray | None = None,
        sub: Frame | None = None,
    ) -> None:
        if image is None and decode is None:
            raise ValueError("a frame needs its picture or a way to decode it")
        self._image = image
        self._decode = decode
        self.index = index
        self.small = small
        self.sub = sub

    @property
    def decoded(self) -> bool:
        """Whether the full picture has been decoded (or was given)."""
        return self._image is not None

    @property
    def image(self) -> np.ndarray:
        if self._image is None:
            assert self._decode is not None
            image = self._decode()
            if image is None:
                raise FrameUnavailable("the full picture of this frame could not be decoded")
            self._image, self._decode = image, None
        return self._image

    def gate_view(self) -> np.ndarray:
        """What the motion gate measures: `small` when there is one, else the picture."""
        return self.small if self.small is not None else self.image


def with_gate(spec: SourceSpec, gate: SourceSpec | None) -> SourceSpec:
    """`spec` whose gate looks at the sub-stream `gate` (None: at the main stream)."""
    if gate is not None and gate.kind in ("image", "synthetic"):
        raise SourceError("a sub-stream must be a video file, a stream or a device")
    return dataclasses.replace(spec, gate=gate)


def reduced_grey_flag(width: int, gate_width: int) -> int:
    """The `cv2.imdecode` flag of the cheapest JPEG decode still `gate_width` wide."""
    for factor, flag in REDUCED_GREY:
        if width // factor >= gate_width:
            return flag
    return cv2.IMREAD_GRAYSCALE


def jpeg_frame(data: np.ndarray, index: int, width: int, gate_width: int) -> Frame | None:
    """A frame from a compressed JPEG picture: a reduced grey decode for the gate now, the
    full picture when asked; None when `data` is not a JPEG."""
    small = cv2.imdecode(data, reduced_grey_flag(width, gate_width))
    if small is None:
        return None
    return Frame(None, index, decode=lambda: cv2.imdecode(data, cv2.IMREAD_COLOR), small=small)


def fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    return "".join(chr((code >> (8 * k)) & 0xFF) for k in range(4)).strip("\x00 ").upper()


def compressed_jpeg(capture: cv2.VideoCapture) -> bool:
    """Switch an MJPEG capture to compressed pictures (the demuxer's packets, no decoding);
    False, and nothing changed, for other codecs or backends."""
    if fourcc(capture) not in ("MJPG", "MJPEG", "JPEG"):
        return False
    return bool(capture.set(cv2.CAP_PROP_FORMAT, -1)) and capture.get(cv2.CAP_PROP_FORMAT) == -1


def decode_params(hw_decode: bool, threads: int = DECODE_THREADS) -> list[int]:
    """`cv2.VideoCapture` parameters: hardware decoding when asked (the backend falls back
    to software when the machine has none) and the decoder's threads (0: FFmpeg's choice,
    one per core). One thread is the cheaper in CPU time: FFmpeg's frame threads cost
    10-15 % more CPU per H.264 frame here, and a node with many cameras already has a
    decoder per camera to keep its cores busy."""
    params = [cv2.CAP_PROP_N_THREADS, threads] if threads > 0 else []
    if hw_decode:
        params += [cv2.CAP_PROP_HW_ACCELERATION, cv2.VIDEO_ACCELERATION_ANY]
    return params


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
    """A video file sampled in scene time: sample k is the frame at k / fps seconds.

    An MJPEG file is read as compressed pictures (skipped frames cost nothing, a sampled
    one a reduced grey decode for the gate and a full decode only when it is sent); other
    codecs are decoded frame by frame (`grab` for the skipped ones: no colour conversion)."""

    def __init__(
        self,
        path: str,
        fps: float,
        *,
        gate_width: int = GATE_WIDTH,
        hw_decode: bool = False,
        threads: int = DECODE_THREADS,
    ) -> None:
        self.capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG, decode_params(hw_decode, threads))
        if not self.capture.isOpened():
            self.capture = cv2.VideoCapture(path)  # another backend
        if not self.capture.isOpened():
            raise SourceError(f"{path}: cannot be opened as a video")
        file_fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.file_fps = file_fps if file_fps and math.isfinite(file_fps) and file_fps > 0 else 25.0
        self.width = int(self.capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.compressed = compressed_jpeg(self.capture)
        self.gate_width = gate_width
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
        if self.compressed:
            self.last = jpeg_frame(image.reshape(-1), target, self.width, self.gate_width)
        else:
            self.last = Frame(image, target)
        return self.last

    def frame_at(self, target: int) -> np.ndarray | None:
        """The full picture of frame `target` (a main stream read on demand): forward by
        `grab` over a short gap, by seeking over a longer one or backwards (OpenCV then
        decodes from a key frame at least 16 frames before the target)."""
        # compressed pictures: skipping forward is free
        far = not self.compressed and target - self.position > SEEK_AFTER_FRAMES
        if target < self.position or far:
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, target)
            self.position = target
        while self.position < target:
            if not self.capture.grab():
                return None
            self.position += 1
        ok, image = self.capture.read()
        if not ok:
            return None
        self.position += 1
        if self.compressed:
            return cv2.imdecode(image.reshape(-1), cv2.IMREAD_COLOR)
        return image

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
    """A stream or device read continuously by a thread (an NVR stream must be drained):
    frames are grabbed as they come and converted only when a sample asks for one, and an
    MJPEG stream is kept compressed until the gate has looked at it. A sample is the next
    frame to arrive."""

    def __init__(
        self,
        spec: SourceSpec,
        *,
        gate_width: int = GATE_WIDTH,
        hw_decode: bool = False,
        threads: int = DECODE_THREADS,
    ) -> None:
        if spec.kind == "stream":
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                STREAM_TIMEOUT_MS,
                *decode_params(hw_decode, threads),
            ]
            capture = cv2.VideoCapture(spec.target, cv2.CAP_FFMPEG, params)
        else:
            capture = cv2.VideoCapture(int(spec.target) if spec.target.isdigit() else spec.target)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open {spec.kind} {spec}")
        self._capture = capture
        self.width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.compressed = spec.kind == "stream" and compressed_jpeg(capture)
        self.gate_width = gate_width
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None
        self._wanted = threading.Event()  # a sample waits for the next frame
        self._fresh = threading.Event()  # ... and here it is (or the stream failed)
        self._closed = threading.Event()
        self.failed = False
        self._thread = threading.Thread(target=self._run, name=f"camera-read-{spec}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._closed.is_set():
                if not self._capture.grab():
                    self.failed = True
                    break
                if not self._wanted.is_set():
                    continue  # not sampled: no conversion
                ok, image = self._capture.retrieve()
                if not ok or image is None:
                    self.failed = True
                    break
                with self._lock:
                    self._latest = image.copy() if self.compressed else image
                self._wanted.clear()
                self._fresh.set()
        finally:
            self._capture.release()  # here: releasing under a blocked read() is unsafe
            self._fresh.set()

    def read(self) -> Frame | None:
        if self.failed or not self._thread.is_alive():
            self.failed = True
            return None
        self._fresh.clear()
        self._wanted.set()
        # no frame within the wait: a stalled stream counts as failed
        if not self._fresh.wait(FIRST_FRAME_WAIT_S) or self.failed:
            self.failed = True
            return None
        with self._lock:
            image, self._latest = self._latest, None
        if image is None:
            self.failed = True
            return None
        if self.compressed:
            frame = jpeg_frame(image.reshape(-1), -1, self.width, self.gate_width)
            self.failed = frame is None
            return frame
        return Frame(image, -1)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(STREAM_TIMEOUT_MS / 1000 + 1)


class MainOnDemand:
    """A live main stream opened when a frame is sent and kept open while frames are taken
    from it (`hold_s`), so a static scene decodes only its sub-stream."""

    def __init__(
        self,
        spec: SourceSpec,
        *,
        hold_s: float = MAIN_HOLD_S,
        hw_decode: bool = False,
        threads: int = DECODE_THREADS,
        monotonic: Callable[[], float] = time.monotonic,
        opener: Callable[[SourceSpec], Capture] | None = None,
    ) -> None:
        self.spec = spec
        self.hold_s = hold_s
        self.monotonic = monotonic
        self.opener = opener or functools.partial(LiveCapture, hw_decode=hw_decode, threads=threads)
        self.capture: Capture | None = None
        self.used = -math.inf
        self.retry_at = -math.inf
        self.opened = 0  # how many times (logs, tests)

    def image(self) -> np.ndarray | None:
        now = self.used = self.monotonic()
        if self.capture is None:
            if now < self.retry_at:
                return None  # failed a moment ago: do not stall every sample on it
            try:
                self.capture = self.opener(self.spec)
            except SourceError as exc:
                self.retry_at = now + MAIN_RETRY_S
                log.warning("main stream %s: %s", self.spec, exc)
                return None
            self.opened += 1
        frame = self.capture.read()
        if frame is None:  # the stream dropped: opened again on a later frame
            self.close()
            self.retry_at = now + MAIN_RETRY_S
            log.warning("main stream %s: no frame", self.spec)
            return None
        return frame.image

    def tick(self) -> None:
        """Close the main stream when nothing was taken from it for `hold_s`."""
        if self.capture is not None and self.monotonic() - self.used > self.hold_s:
            self.close()

    def close(self) -> None:
        if self.capture is not None:
            self.capture.close()
            self.capture = None


class KeyFrameFile:
    """An H.264 / HEVC main stream in a file, read on demand as a camera's main stream
    would be: its packets are read without decoding (`CAP_PROP_FORMAT -1`, Annex B with
    the parameter sets at key frames), and a frame asked for now and then (a keep-alive) is
    decoded from the key frame before it (the packets since, as a short elementary stream),
    not from wherever OpenCV's seek lands (at least 16 frames back). Frames asked for in a
    row (motion) are decoded in sequence by a second capture, as a held-open live main
    stream is, until a gap."""

    SUFFIXES = {"AVC1": ".h264", "H264": ".h264", "X264": ".h264", "HEV1": ".hevc"}
    SUFFIXES |= {"HVC1": ".hevc", "HEVC": ".hevc"}

    def __init__(self, path: str, fps: float, *, threads: int = DECODE_THREADS) -> None:
        self.path = path
        self.fps = fps
        self.threads = threads
        self.position = 0  # index of the next packet
        self.gop: list[bytes] = []  # packets from the last key frame on
        self.last = -(2**31)  # the frame asked for last
        self.sequential: FileCapture | None = None  # decoding in a row, while asked in a row
        self.capture = self._open()
        file_fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.file_fps = file_fps if file_fps and math.isfinite(file_fps) and file_fps > 0 else 25.0
        self.suffix = self.SUFFIXES[fourcc(self.capture)]

    @classmethod
    def supports(cls, path: str) -> bool:
        capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        try:
            return capture.isOpened() and fourcc(capture) in cls.SUFFIXES
        finally:
            capture.release()

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
        if not capture.isOpened() or capture.get(cv2.CAP_PROP_FORMAT) != -1:
            capture.release()
            raise SourceError(f"{self.path}: cannot be read as compressed packets")
        self.position = 0
        self.gop = []
        return capture

    def frame_at(self, target: int) -> np.ndarray | None:
        step = max(1, math.ceil(self.file_fps / self.fps))  # frames between two samples
        in_a_row = 0 < target - self.last <= step
        self.last = target
        seq = self.sequential
        if seq is not None and in_a_row and target >= seq.position:
            return seq.frame_at(target)
        if seq is not None:
            seq.close()
            self.sequential = None
        image = self._keyed(target)
        if in_a_row:  # frames in a row: decode the next ones in sequence
            self.sequential = FileCapture(self.path, self.fps, threads=self.threads)
            self.sequential.capture.set(cv2.CAP_PROP_POS_FRAMES, target + 1)
            self.sequential.position = target + 1
        return image

    def _keyed(self, target: int) -> np.ndarray | None:
        """Frame `target` decoded from the key frame before it."""
        if target < self.position - 1:  # backwards: from the start again
            self.capture.release()
            self.capture = self._open()
        while self.position <= target:
            ok, packet = self.capture.read()
            if not ok:
                return None
            data = packet.reshape(-1).tobytes()
            if self.capture.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME):
                self.gop = [data]
            elif self.gop:
                self.gop.append(data)
            self.position += 1
        if not self.gop:
            return None  # no key frame yet
        return self._decode(self.gop)

    def _decode(self, packets: list[bytes]) -> np.ndarray | None:
        """The last picture of `packets` (a key frame and the frames after it)."""
        with tempfile.NamedTemporaryFile(suffix=self.suffix) as f:
            f.write(b"".join(packets))
            f.flush()
            capture = cv2.VideoCapture(f.name, cv2.CAP_FFMPEG, decode_params(False, self.threads))
            try:
                for _ in packets[:-1]:
                    if not capture.grab():  # decoded, not converted
                        return None
                ok, image = capture.read()
                return image if ok else None
            finally:
                capture.release()

    def close(self) -> None:
        self.capture.release()
        if self.sequential is not None:
            self.sequential.close()
            self.sequential = None


MainStream = FileCapture | KeyFrameFile | MainOnDemand


class SubStreamCapture:
    """The gate looks at the camera's sub-stream; the main stream (same scene, full
    resolution) is decoded only for a frame that is sent: a file at the same scene time, a
    live stream by `MainOnDemand`."""

    def __init__(self, gate: Capture, main: MainStream, fps: float) -> None:
        self.gate = gate
        self.main = main
        self.fps = fps
        self.samples = 0

    def read(self) -> Frame | None:
        if isinstance(self.main, MainOnDemand):
            self.main.tick()
        frame = self.gate.read()
        if frame is None:
            return None
        k = self.samples
        self.samples += 1
        small = frame.gate_view()
        main = self.main
        if isinstance(main, MainOnDemand):
            return Frame(None, frame.index, decode=main.image, small=small, sub=frame)
        target = math.floor(k * main.file_fps / self.fps + 1e-9)
        return Frame(None, target, decode=lambda: main.frame_at(target), small=small, sub=frame)

    def close(self) -> None:
        self.gate.close()
        self.main.close()


def open_capture(
    spec: SourceSpec,
    fps: float,
    *,
    background: np.ndarray | None = None,
    seed: int = 0,
    gate_width: int = GATE_WIDTH,
    hw_decode: bool = False,
    main_hold_s: float = MAIN_HOLD_S,
    decode_threads: int = DECODE_THREADS,
) -> Capture:
    """The capture of a source; SourceError when it cannot be opened."""
    threads = decode_threads
    if spec.gate is not None:
        gate = open_capture(
            spec.gate, fps, gate_width=gate_width, hw_decode=hw_decode, decode_threads=threads
        )
        main: MainStream
        try:
            if spec.kind == "file" and not hw_decode and KeyFrameFile.supports(spec.target):
                main = KeyFrameFile(spec.target, fps, threads=threads)
            elif spec.kind == "file":
                main = FileCapture(
                    spec.target, fps, gate_width=gate_width, hw_decode=hw_decode, threads=threads
                )
            elif spec.kind in ("stream", "device"):
                main = MainOnDemand(spec, hold_s=main_hold_s, hw_decode=hw_decode, threads=threads)
            else:
                raise SourceError(f"a {spec.kind} source has no sub-stream")
        except SourceError:
            gate.close()
            raise
        return SubStreamCapture(gate, main, fps)
    if spec.kind == "file":
        return FileCapture(
            spec.target, fps, gate_width=gate_width, hw_decode=hw_decode, threads=threads
        )
    if spec.kind == "image":
        return StillCapture(spec.target)
    if spec.kind == "synthetic":
        activity = next(a for a in ACTIVITIES if a == spec.target)
        return SceneCapture(KitchenScene(activity, background=background, seed=seed), fps)
    return LiveCapture(spec, gate_width=gate_width, hw_decode=hw_decode, threads=threads)


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
        opener: Opener | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        gate_width: int = GATE_WIDTH,
        hw_decode: bool = False,
        main_hold_s: float = MAIN_HOLD_S,
        decode_threads: int = DECODE_THREADS,
    ) -> None:
        """`gate_width`, `hw_decode`, `main_hold_s`, `decode_threads`: for the default
        opener (`open_capture`), as in CameraSettings."""
        if opener is None:
            opener = functools.partial(
                open_capture,
                gate_width=gate_width,
                hw_decode=hw_decode,
                main_hold_s=main_hold_s,
                decode_threads=decode_threads,
            )
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
