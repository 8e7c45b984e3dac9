"""The camera agent at work: sample, gate, encode (or detect), spool, forward.

Central-inference mode (the default): every frame the motion gate passes, and a
keep-alive frame every `keepalive_s`, goes out as one JPEG on `.../frame` (QoS 1, capture
time as the MQTT 5 user property `ts`, epoch ms; a keep-alive frame also carries the user
property `keepalive`: `sub` when its picture is the sub-stream's, `main` otherwise). With
`--detect` the detector runs at the edge on motion frames only; when it finds a class of
interest the agent publishes the evidence JPEG on `.../frame` and then the detections
JSON on `.../detections` (same `ts`; the frame also carries the user property `seq` of
its detections, so the two pair up); frames with nothing of interest send nothing,
keep-alive frames still go.

Everything goes through the SQLite spool (`edge.spool`) and one MQTT connection
(`edge.forwarder.Link`, lane 0): in order, kept while the broker is away, replayed on
reconnection. The connection's will is `offline` (retained) on `.../availability`, and
it says `online` (retained) on every connection; a clean stop says `offline`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from brightwatch.contract.topics import Channel, camera_topic
from brightwatch.edge.camera import gate
from brightwatch.edge.camera.frames import (
    detections_payload,
    encode_jpeg,
    fit_width,
    of_interest,
)
from brightwatch.edge.camera.source import Frame, FrameSource, FrameUnavailable
from brightwatch.edge.forwarder import Forwarder, Link, client_id
from brightwatch.edge.settings import CameraSettings
from brightwatch.edge.spool import Outgoing, Spool
from brightwatch.mqttlink.client import BrokerAddress

if TYPE_CHECKING:
    from brightwatch.vision.detector.base import Detector

log = logging.getLogger(__name__)

STATS_LOG_EVERY_S = 300.0
DRAIN_TIMEOUT_S = 10.0


@dataclass
class CameraConfig:
    site_id: str
    camera_id: str
    topic_root: str = "bw"
    data_dir: Path = Path(".")
    settings: CameraSettings = field(default_factory=CameraSettings)
    detect: bool = False
    duration_s: float | None = None  # stop after this long (None: until stopped)

    def topic(self, channel: Channel) -> str:
        return camera_topic(self.topic_root, self.site_id, self.camera_id, channel)


@dataclass
class Counters:
    sampled: int = 0
    motion: int = 0
    keepalives: int = 0
    inferences: int = 0
    frames_sent: int = 0
    detections_sent: int = 0
    source_down: int = 0  # samples missed because the source was down
    decoded: int = 0  # frames decoded in full (the gate looks at a reduced picture)
    unavailable: int = 0  # frames to send whose full picture could not be decoded


class CameraPipeline:
    """The agent's decisions for one sampled frame, with no I/O: gate, then what to send."""

    def __init__(self, config: CameraConfig, detector: Detector | None = None) -> None:
        if config.detect and detector is None:
            raise ValueError("detection at the edge needs a detector")
        self.config = config
        self.settings = config.settings
        self.detector = detector
        self.model = f"{detector.name}@{detector.version}" if detector is not None else ""
        self.state = gate.GateState()
        self.seq = 0
        self.counters = Counters()
        self._frame_topic = config.topic(Channel.FRAME)
        self._detections_topic = config.topic(Channel.DETECTIONS)

    def process(self, frame: Frame, ts_ms: int) -> list[Outgoing]:
        s = self.settings
        c = self.counters
        c.sampled += 1
        decoded = frame.decoded
        try:
            small = gate.small_grey(frame.gate_view(), s)
            self.state, decision = gate.step(self.state, small, ts_ms, s)
            c.motion += decision.motion
            out: list[Outgoing] = []
            if decision.motion and self.config.detect:
                out = self._detect(frame, ts_ms)
            elif decision.motion:
                out = [self._frame(self._scaled(frame), ts_ms)]
            if not out and decision.keepalive:
                out = [self._keepalive(frame, ts_ms)]
                c.keepalives += 1
        except FrameUnavailable:
            # the main stream did not give this frame: nothing sent, the keep-alive stays due
            c.unavailable += 1
            return []
        finally:
            c.decoded += frame.decoded and not decoded
        if out:
            self.state = gate.sent(self.state, ts_ms, s)
        return out

    def _scaled(self, frame: Frame) -> np.ndarray:
        return fit_width(frame.image, self.settings.max_width)

    def _keepalive(self, frame: Frame, ts_ms: int) -> Outgoing:
        """A keep-alive frame, from the sub-stream's picture when the gate looks at one and
        `keepalive_source` is `sub`: a still scene then decodes no main-stream picture (a
        live main stream would be opened for it and decoded frame by frame while held)."""
        if frame.sub is not None and self.settings.keepalive_source == "sub":
            return self._frame(self._scaled(frame.sub), ts_ms, ("keepalive", "sub"))
        return self._frame(self._scaled(frame), ts_ms, ("keepalive", "main"))

    def _frame(self, image: np.ndarray, ts_ms: int, *extra: tuple[str, str]) -> Outgoing:
        self.counters.frames_sent += 1
        return Outgoing(
            0,
            self._frame_topic,
            encode_jpeg(image, self.settings.jpeg_quality),
            1,
            False,
            (("ts", str(ts_ms)), *extra),
        )

    def _detect(self, frame: Frame, ts_ms: int) -> list[Outgoing]:
        detector = self.detector
        assert detector is not None
        seek = getattr(detector, "seek", None)
        if seek is not None and frame.index >= 0:
            seek(frame.index)  # a label replay stays in step with the skipped frames
        self.counters.inferences += 1
        found = of_interest(detector.detect(frame.image), self.settings.detect_labels)
        if not found:
            return []
        seq = self.seq
        self.seq += 1
        image = self._scaled(frame)
        evidence = self._frame(image, ts_ms, ("seq", str(seq)))
        height, width = image.shape[:2]
        scale = width / frame.image.shape[1]  # boxes from the full frame to the sent one
        body = detections_payload(ts_ms, seq, self.model, width, height, found, scale)
        self.counters.detections_sent += 1
        return [
            evidence,
            Outgoing(0, self._detections_topic, body, 1, False, (("ts", str(ts_ms)),)),
        ]


class CameraAgent:
    def __init__(
        self,
        config: CameraConfig,
        broker: BrokerAddress,
        source: FrameSource,
        detector: Detector | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.source = source
        self.pipeline = CameraPipeline(config, detector)
        self.clock = clock
        self.monotonic = monotonic
        name = f"camera-{config.site_id}-{config.camera_id}"
        self.spool = Spool(
            Path(config.data_dir) / "spool" / f"{name}.sqlite", config.settings.spool_max_messages
        )
        availability = config.topic(Channel.AVAILABILITY)
        self.link = Link(
            broker,
            client_id(f"cam-{config.site_id}-{config.camera_id}", 0),
            0,
            will=(availability, b"offline"),
            birth=(availability, b"online"),
        )
        self.forwarder = Forwarder(self.spool, [self.link])
        self._availability = availability
        self._pump_stop = threading.Event()
        self._pump: threading.Thread | None = None

    @property
    def counters(self) -> Counters:
        return self.pipeline.counters

    def start(self) -> None:
        """Connect and start forwarding (run() does it; tests drive sample() themselves)."""
        self.link.start()
        self._pump = threading.Thread(
            target=self.forwarder.run,
            args=(self._pump_stop,),
            name=f"camera-forwarder-{self.config.camera_id}",
        )
        self._pump.start()

    def run(self, stop: threading.Event) -> None:
        cfg = self.config
        period = 1.0 / self.source.fps
        log.info(
            "camera %s/%s: %s at %g fps, %s",
            cfg.site_id,
            cfg.camera_id,
            self.source.spec,
            self.source.fps,
            f"edge detection ({self.pipeline.model})" if cfg.detect else "frames to the server",
        )
        self.start()
        t0 = next_tick = self.monotonic()
        next_stats = t0 + STATS_LOG_EVERY_S
        try:
            while not stop.is_set():
                now = self.monotonic()
                if cfg.duration_s is not None and now - t0 >= cfg.duration_s:
                    break
                self.sample()
                if self.source.ended:
                    break
                if now >= next_stats:
                    next_stats = now + STATS_LOG_EVERY_S
                    self._log_stats()
                # a slow sample (detector, reconnect) skips ticks rather than bunching them
                next_tick = max(next_tick + period, self.monotonic())
                stop.wait(max(0.0, next_tick - self.monotonic()))
        finally:
            self.stop()

    def sample(self) -> int:
        """Take one sample and spool what it gives; returns how many messages."""
        frame = self.source.read()
        if frame is None:
            self.counters.source_down += not self.source.ended
            return 0
        rows = self.pipeline.process(frame, round(self.clock() * 1000))
        if rows:
            self.spool.append(rows)
            self.forwarder.notify()
        return len(rows)

    def stop(self, drain_s: float = DRAIN_TIMEOUT_S) -> None:
        """Publish what is spooled (up to `drain_s`), say `offline`, disconnect."""
        self._pump_stop.set()
        if self._pump is not None:
            self._pump.join()
        drained = self.forwarder.drain(timeout=drain_s)
        # a clean stop does not fire the will: say it, after the frames; not through the
        # spool, where it would outlive a stop with the broker away and follow the next
        # start's `online`
        self.link.publish_now(self._availability, b"offline", retain=True)
        self.link.close()
        left = len(self.spool)
        self.spool.close()
        self.source.close()
        self._log_stats()
        if not drained:
            log.warning("%d message(s) kept in the spool for the next start", left)

    def _log_stats(self) -> None:
        c = self.counters
        log.info(
            "camera %s/%s: %d sampled, %d with motion, %d keep-alive, %d frames and %d "
            "detections sent, %d inferences, %d spooled, %d dropped from a full spool",
            self.config.site_id,
            self.config.camera_id,
            c.sampled,
            c.motion,
            c.keepalives,
            c.frames_sent,
            c.detections_sent,
            c.inferences,
            len(self.spool),
            self.spool.dropped,
        )
