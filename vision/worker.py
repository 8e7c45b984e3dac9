"""The vision worker: camera messages in, inference and rule steps, alerts and evidence out.

One MQTT batch is handled in three moves:
1. decode: frames (JPEG; capture time from the MQTT 5 user property `ts`, else receive
   time), edge detections (JSON of interfaces.md) and availability, grouped per camera in
   arrival order; every frame's health is measured on a small grey copy;
2. infer: frames of cameras that do not send their own detections go through the
   configured detectors in batches (no database connection is held meanwhile); the
   evidence frame of edge detections (the agent sends it just before them, same `ts`,
   MQTT 5 user property `seq`) is not inferred again, only measured for health;
3. one transaction: the cameras' rule states are loaded (memory, then the table), each
   observation is stepped through `vision.rules.engine`, the raised violations get their
   evidence (JPEG files + `evidence` rows) and go to the alert core
   (`AlertStore.apply_signal`: alert, audit, outgoing message, review queue), the states
   are saved, and the transaction commits; only then does the consumer acknowledge the
   batch to the broker. A crash before the commit leaves the batch unacknowledged and the
   states as they were: the broker redelivers, the same events come out once; after the
   commit a redelivered frame is older than the state's last frame and is skipped.
   Evidence still awaited (edge detections that raised a violation before their frame
   came) is saved with the state, so a restart in between still attaches the frame.

After the commit the latest frame of each camera replaces
BW_DATA_DIR/snapshots/<site>/<camera>.jpg (atomically; the public page reads it), with the
person boxes found in it in a sidecar (vision.snapshots: the privacy filter blurs their
heads); an edge camera's boxes come with its detections of the same `ts`, which may
follow in a later batch. One frame every `archive_every_s` is archived for the raw-frame
retention.

Timers (CAMERA_OFFLINE after silence, long rules whose scene holds) fire through `tick`,
run by the component's ticker; the camera's clock offset (receive time minus capture
time, the smallest seen, allowed to rise slowly) turns server time into capture time.

Replicas: with `[vision] partitions` the cameras (`site/camera`) fall into partitions
owned through leases, as the elevators do (db/partitions.py): every transaction is
fenced, a taken partition's states are loaded at once (`adopt`), and the frames of
cameras owned elsewhere are kept, undecoded, in a small standby buffer (a camera's
state is saved in every transaction, so only what the old owner had not committed is
replayed; a frame stream loses at most the standby's bound during a takeover).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import msgspec
import numpy as np
import psycopg
from psycopg_pool import ConnectionPool

from brightwatch.alerts.evidence import records as evidence_store
from brightwatch.alerts.evidence.files import write_atomic
from brightwatch.alerts.evidence.records import evidence_url
from brightwatch.alerts.model import AlertSignal
from brightwatch.alerts.store import AlertStore
from brightwatch.contract.clock_offset import device_time, observe_offset, server_time
from brightwatch.contract.decode import decode_detections
from brightwatch.contract.payloads import (
    PayloadError,
    check_epoch_ms,
    check_frame,
    check_frame_size,
    decode_availability,
)
from brightwatch.contract.topics import Channel, DeviceKind, TopicError, parse_device_topic
from brightwatch.db.partitions import Fenced, Ownership
from brightwatch.i18n import DEFAULT_LOCALE
from brightwatch.mqttlink.consumer import Inbound, Rejected
from brightwatch.registry.auto import register_cameras
from brightwatch.vision import health, jpeg, metrics, snapshots
from brightwatch.vision.cameras import (
    build_config,
    registration_times,
    unwatched_kitchen_cameras,
)
from brightwatch.vision.inference import Inference
from brightwatch.vision.rules.config import CameraConfig
from brightwatch.vision.rules.engine import next_due, step, tick
from brightwatch.vision.rules.observations import (
    AvailabilitySeen,
    Event,
    EvidenceRef,
    FrameSeen,
    Obj,
    Observation,
)
from brightwatch.vision.rules.state import CameraState, new_state
from brightwatch.vision.settings import VisionSettings
from brightwatch.vision.store import (
    CameraKey,
    Pending,
    load_cameras,
    load_states,
    save_states,
)

log = logging.getLogger(__name__)

SOURCE = "vision"
RING = 12  # recent JPEGs kept per camera for evidence
EDGE_MODE_S = 15.0  # a camera that sent detections this recently is in edge mode
BEHIND_SHARE = 0.25  # of shed_after_s a frame waited in the worker: the worker is behind


@dataclass
class Entry:
    state: CameraState
    cfg: CameraConfig
    registry_at: float
    offset_ms: int | None = None
    offset_at: float = 0.0
    frames: OrderedDict[int, bytes] = field(default_factory=OrderedDict)  # ts -> JPEG
    edge_ts: deque[int] = field(default_factory=lambda: deque(maxlen=64))
    edge_until: float = 0.0
    pending: list[Pending] = field(default_factory=list)
    last_archive_ms: int = 0
    last_snapshot_ms: int = 0
    snapshot: tuple[int, bytes] | None = None  # ts and JPEG of the latest snapshot written
    snapshot_described: bool = False  # its sidecar (person boxes) is written
    seen: deque[FrameSeen] = field(default_factory=lambda: deque(maxlen=16))  # with objects

    def newest_frame(self) -> tuple[int, bytes] | None:
        """The latest frame kept in the ring (its `ts` and JPEG); None when it is empty."""
        if not self.frames:
            return None
        ts = next(reversed(self.frames))
        return ts, self.frames[ts]


@dataclass
class Decoded:
    """One message of one camera, ready to step."""

    obs: Observation
    received_ms: int
    jpeg: bytes | None = None
    image: np.ndarray | None = None
    infer: bool = False  # central inference wanted
    edge: bool = False  # the evidence frame of edge detections (user property `seq`)
    scale: int = 1  # the image was decoded at 1/scale of the frame's size
    late: bool = False  # came later than shed_after_s: health and presence only


@dataclass
class Stats:
    messages: int = 0
    frames: int = 0
    inferred: int = 0
    detections: int = 0
    rejected: int = 0
    events: int = 0
    evidence: int = 0
    batches: int = 0
    shed: int = 0  # frames for inference that came too late (shed_after_s)
    infer_seconds: float = 0.0
    last_error: str = ""


def device_name(key: CameraKey) -> str:
    """The camera as its partition is computed: `site/camera`."""
    return f"{key[0]}/{key[1]}"


def _is_person(cfg: CameraConfig, obj: Obj) -> bool:
    rule = cfg.class_rule(obj.model, obj.label)
    return rule.person if rule is not None else obj.label == "person"


class VisionWorker:
    def __init__(
        self,
        settings: VisionSettings,
        alert_store: AlertStore,
        pool: ConnectionPool,
        topic_root: str,
        data_dir: Path,
        inference: Inference | None,
        *,
        unknown_devices: str = "accept",
        review_codes: Sequence[str] = (),
        max_future: timedelta = timedelta(days=1),
        now: Callable[[], float] = time.time,
        locale: str = DEFAULT_LOCALE,
        ownership: Ownership[Inbound] | None = None,
    ) -> None:
        self.settings = settings
        self.ownership = ownership  # None: this worker handles every camera
        self.locale = locale  # BW_LOCALE: the summaries people read
        self.alert_store = alert_store
        self.pool = pool
        self.topic_root = topic_root
        self.data_dir = Path(data_dir)
        self.inference = inference
        self.unknown_devices = unknown_devices
        self.review_codes = frozenset(review_codes)
        self.max_future = max_future
        self.now = now
        self.cache: dict[CameraKey, Entry] = {}
        self.quarantined: dict[CameraKey, float] = {}  # unknown cameras: when last looked up
        self.decode_size = inference.decode_size if inference is not None else None
        self.lock = threading.RLock()
        self.stats = Stats()
        self.watched_at = 0.0  # when registered cameras never heard from were last looked up
        self.shed_reported = (0.0, 0)  # when shedding was last logged, and the count then

    # ------------------------------------------------------------ decoding

    def _decode(self, item: Inbound) -> tuple[CameraKey, Decoded] | str | None:
        """The camera and what it sent; a string (the dead letter's reason) for a frame or
        detections that cannot be used; None for what ingest validates (availability)."""
        try:
            topic = parse_device_topic(self.topic_root, item.topic)
        except TopicError as exc:
            if item.topic.endswith("/availability"):
                return None  # ingest dead-letters availability
            return f"topic: {exc}"
        if topic.kind != DeviceKind.CAMERA or topic.site_id is None:
            return "topic: not a camera topic"
        key = (topic.site_id, topic.device_id)
        received_ms = round(item.received_at.timestamp() * 1000)
        try:
            if topic.channel == Channel.AVAILABILITY:
                online = decode_availability(item.payload) == "online"
                return key, Decoded(AvailabilitySeen(received_ms, online), received_ms)
            if topic.channel == Channel.DETECTIONS:
                decoded = decode_detections(item.payload, item.received_at, self.max_future)
                d = decoded.message
                ts = round(decoded.ts.timestamp() * 1000)
                objs = tuple(
                    Obj(o.label, o.score, (o.box[0], o.box[1], o.box[2], o.box[3]), d.model)
                    for o in d.objects
                )
                return key, Decoded(FrameSeen(ts, d.width, d.height, objs, None), received_ms)
            check_frame(item.payload)
            dims = jpeg.size(item.payload)
            check_frame_size(dims)
            ts = item.user_ts if item.user_ts is not None else received_ms
            check_epoch_ms(ts, item.received_at, self.max_future)
            edge = item.user_seq is not None
            late = not edge and self._late(key, item, ts, received_ms)
            # an edge frame, or one too late to infer, is only measured for health: a
            # quarter-size grey decode; others at the smallest size that still feeds the
            # detectors in full
            if edge or late:
                image, scale = health.decode_small(item.payload), 4
                w, h = dims if dims else (0, 0)
            else:
                image, scale, w, h = jpeg.decode(item.payload, self.decode_size)
            if image is None or not w or not h:
                raise PayloadError("frame: not a decodable JPEG")
            frame = FrameSeen(ts, w, h, None, health.measure(image))
            return key, Decoded(
                frame, received_ms, item.payload, image, edge=edge, scale=scale, late=late
            )
        except (ValueError, cv2.error) as exc:  # a decoder refusing a corrupt JPEG
            if isinstance(exc, PayloadError):
                reason = exc.reason
            else:
                reason = f"frame: not a decodable JPEG ({type(exc).__name__})"
            with self.lock:  # decoded on the inference pool's threads
                self.stats.rejected += 1
            if topic.channel == Channel.AVAILABILITY:
                return None  # ingest dead-letters availability
            return reason

    def _late(self, key: CameraKey, item: Inbound, ts: int, received_ms: int) -> bool:
        """Whether the worker is behind and this frame reaches the detectors more than
        shed_after_s after it was taken: how much later than the camera's usual it
        arrived (received minus taken, less the camera's clock offset: the broker's
        queue, an agent's spool) plus how long it has waited in this process.

        Behind: the frame waited here at least a quarter of shed_after_s. An idle worker
        infers every frame however old (a spool replayed after an outage, a camera whose
        clock was set back); under overload every frame waits for the ones before it
        (the worker's receive window holds up to `receive_maximum` frames).
        Read without the lock (on the pool's threads): an offset a batch old will do."""
        limit = self.settings.shed_after_s
        if not limit or item.received_mono is None:
            return False
        waited_s = time.monotonic() - item.received_mono
        if waited_s < limit * BEHIND_SHARE:
            return False
        entry = self.cache.get(key)
        offset = entry.offset_ms if entry is not None else None
        arrived_late_ms = 0 if offset is None else max(0, received_ms - ts - offset)
        return arrived_late_ms / 1000 + waited_s > limit

    # ------------------------------------------------------------ a batch

    def handle(self, batch: list[Inbound]) -> list[Rejected]:
        """The consumer's handler: returns after the commit (with the frames and detections
        that cannot be used, for the dead letters), or raises (nothing acked). With
        partitions, what belongs to cameras owned elsewhere is kept, undecoded, for a
        takeover (under the lock, so a partition being adopted misses nothing)."""
        if self.ownership is not None:
            with self.lock:
                batch = self._keep_foreign(batch, self.ownership)
        grouped: dict[CameraKey, list[Decoded]] = {}
        rejected: list[Rejected] = []
        # JPEG decoding releases the GIL: on the inference pool's threads it uses the
        # cores that a one-by-one loop left idle between batches
        if self.inference is not None:
            decoded = self.inference.map(self._decode, batch)
        else:
            decoded = [self._decode(item) for item in batch]
        for item, found in zip(batch, decoded, strict=True):
            if isinstance(found, str):
                rejected.append((item, found))
            elif found is not None:
                grouped.setdefault(found[0], []).append(found[1])
        self.stats.messages += len(batch)
        if not grouped:
            return rejected
        with self.lock:
            self._route(grouped)
            self._infer([(k, d) for k, msgs in grouped.items() for d in msgs if d.infer])
            latest: dict[CameraKey, Decoded] = {}
            for _ in range(3):
                try:
                    latest = self._transaction(list(grouped), partial(self._step_all, grouped))
                    break
                except Fenced as lost:  # the new owner has these messages in its standby
                    self.give_up(lost.partitions, lost=True)
                    grouped = {k: m for k, m in grouped.items() if self._handles(k)}
                    if not grouped:
                        break
        self.stats.batches += 1
        for key, d in latest.items():
            self._after_commit(key, d)
        for key, msgs in grouped.items():
            self._describe_snapshot(key, msgs)
        return rejected

    # ------------------------------------------------------------ partitions

    def _handles(self, key: CameraKey) -> bool:
        return self.ownership is None or self.ownership.handles(device_name(key))

    def _keep_foreign(self, batch: list[Inbound], own: Ownership[Inbound]) -> list[Inbound]:
        mine = []
        for item in batch:
            try:
                topic = parse_device_topic(self.topic_root, item.topic)
            except TopicError:
                mine.append(item)  # refused by _decode, with its reason
                continue
            name = f"{topic.site_id}/{topic.device_id}"
            if topic.kind == DeviceKind.CAMERA and not own.handles(name):
                own.park(name, item)
            else:
                mine.append(item)
        return mine

    def adopt(self, partitions: frozenset[int]) -> int:
        """Start handling partitions this replica just took: their kept messages first, in
        arrival order, then every saved camera state of theirs (silences count from them)."""
        own = self.ownership
        if own is None or not partitions:
            return 0
        with self.lock:
            backlog = own.activate(partitions)
            try:
                if backlog:
                    self.handle(backlog)
                with self.pool.connection() as conn:
                    keys = [
                        k for k in load_states(conn) if own.partition(device_name(k)) in partitions
                    ]
                if keys:
                    self._transaction(keys, lambda entries, conn: None)
            except Exception:
                self.give_up(partitions, lost=True)  # kept frames stay: adopted again later
                raise
            own.settle(partitions)
        return len(backlog)

    def give_up(self, partitions: frozenset[int], lost: bool = False) -> int:
        """Stop handling partitions (every transaction saved their states already)."""
        own = self.ownership
        if own is None or not partitions:
            return 0
        with self.lock:
            own.deactivate(partitions)
            keys = [k for k in self.cache if own.partition(device_name(k)) in partitions]
            for k in keys:
                del self.cache[k]
        return len(keys)

    def _route(self, grouped: dict[CameraKey, list[Decoded]]) -> None:
        """Which frames are inferred here: not those of cameras sending edge detections."""
        now = self.now()
        for key, msgs in grouped.items():
            if now - self.quarantined.get(key, -1e18) < self.settings.registry_ttl_s:
                for d in msgs:
                    d.image = None  # not registered (quarantine): nothing to infer for it
                continue
            entry = self.cache.get(key)
            edge_ts = set(entry.edge_ts) if entry else set()
            edge_until = entry.edge_until if entry else 0.0
            for d in msgs:
                obs = d.obs
                if isinstance(obs, FrameSeen) and obs.objects is not None:
                    edge_ts.add(obs.ts)
                    edge_until = now + EDGE_MODE_S
                    self.stats.detections += 1
                elif d.jpeg is not None:
                    self.stats.frames += 1
                    edge_frame = d.edge or obs.ts in edge_ts or now < edge_until
                    wanted = not edge_frame and self.inference is not None
                    d.infer = wanted and not d.late
                    if wanted and d.late:
                        self.stats.shed += 1
                        metrics.SHED_FRAMES.inc()
                    if not d.infer:
                        d.image = None  # health is measured; nothing else needs pixels
        self._report_shedding(now)

    def _report_shedding(self, now: float) -> None:
        """A warning at most once a minute while frames are shed (the node is behind)."""
        at, count = self.shed_reported
        if self.stats.shed == count or now - at < 60:
            return
        log.warning(
            "vision: %d frame(s) since %s not inferred: the worker is behind and they came"
            " more than %g s after they were taken (shed_after_s: the node is over its"
            " capacity); looked at for presence and picture health only",
            self.stats.shed - count,
            "the start" if not at else f"{now - at:.0f} s ago",
            self.settings.shed_after_s,
        )
        self.shed_reported = (now, self.stats.shed)

    def _input_policy(self, key: CameraKey) -> str:
        override = self.settings.cameras.get(f"{key[0]}/{key[1]}")
        return (override.input if override and override.input else None) or self.settings.input

    def _infer(self, framed: list[tuple[CameraKey, Decoded]]) -> None:
        if not framed or self.inference is None:
            return
        todo = [d for _, d in framed]
        started = time.perf_counter()
        results = self.inference.run(
            [d.image for d in todo],  # type: ignore[misc]
            [self._input_policy(k) for k, _ in framed],
        )
        took = time.perf_counter() - started
        self.stats.infer_seconds += took
        self.stats.inferred += len(todo)
        metrics.INFERENCE_SECONDS.observe(took)
        metrics.INFERRED_FRAMES.inc(len(todo))
        metrics.DETECTOR_FPS.set(len(todo) / took if took > 0 else 0.0)
        for d, objs in zip(todo, results, strict=True):
            f = d.obs
            assert isinstance(f, FrameSeen)
            if d.scale != 1:
                k = d.scale
                objs = [
                    Obj(
                        o.label,
                        o.score,
                        (o.box[0] * k, o.box[1] * k, o.box[2] * k, o.box[3] * k),
                        o.model,
                        o.attributes,
                    )
                    for o in objs
                ]
            d.obs = FrameSeen(f.ts, f.width, f.height, tuple(objs), f.health)
            d.image = None

    def _step_all(
        self,
        grouped: dict[CameraKey, list[Decoded]],
        entries: dict[CameraKey, Entry],
        conn: psycopg.Connection[Any],
    ) -> dict[CameraKey, Decoded]:
        latest: dict[CameraKey, Decoded] = {}
        for key, msgs in grouped.items():
            entry = entries.get(key)
            if entry is None:
                continue  # quarantined: not in the registry
            for d in msgs:
                obs = d.obs
                if d.jpeg is not None:
                    self._remember(entry, obs.ts, d.jpeg)
                    latest[key] = d
                elif isinstance(obs, FrameSeen):  # edge detections: their frame follows
                    entry.edge_ts.append(obs.ts)
                    entry.edge_until = self.now() + EDGE_MODE_S
                if not isinstance(obs, AvailabilitySeen):
                    self._observe_offset(entry, d.received_ms - obs.ts)
                    entry.state, events = step(entry.state, obs, entry.cfg)
                else:
                    device_ms = device_time(d.received_ms, entry.offset_ms)
                    entry.state, events = step(
                        entry.state, AvailabilitySeen(device_ms, obs.online), entry.cfg
                    )
                self._emit(conn, key, entry, events)
            self._fulfil(conn, key, entry)
        return latest

    # ------------------------------------------------------------ events -> alerts

    def _emit(
        self, conn: psycopg.Connection[Any], key: CameraKey, entry: Entry, events: list[Event]
    ) -> None:
        for event in events:
            self.stats.events += 1
            stored: list[int] = []
            waiting: list[EvidenceRef] = []
            if event.active:
                for ref in event.evidence:
                    found = self._frame_for(entry, ref)
                    if found is None:
                        waiting.append(ref)
                        continue
                    ts, jpeg = found
                    stored.append(self._save_evidence(conn, key, entry, event, ref, ts, jpeg))
            signal = self._signal(key, entry.cfg, event, stored[-1] if stored else None)
            change = self.alert_store.apply_signal(conn, signal)
            if change is None or change.alert.id is None:
                continue
            if stored:
                evidence_store.link(conn, stored, change.alert.id)
            deadline = self.now() + self.settings.edge_frame_wait_s
            entry.pending += [Pending(change.alert.id, event, ref, deadline) for ref in waiting]

    def _signal(
        self, key: CameraKey, cfg: CameraConfig, event: Event, evidence_id: int | None
    ) -> AlertSignal:
        labels = {"site_id": key[0], "camera_id": key[1]}
        if cfg.district:
            labels["district"] = cfg.district
        if event.zone:
            labels["zone"] = event.zone
        if cfg.work_area:
            labels["work_area"] = cfg.work_area
        details = {**event.details}
        if event.rule:
            details["rule"] = event.rule
        if event.rules:  # for a reviewer of another language than the deployment's
            details["rules"] = event.rules
        return AlertSignal(
            kind="kitchen",
            code=event.code,
            severity=event.tier,
            device_id=key[1],
            active=event.active,
            at=datetime.fromtimestamp(event.at / 1000, UTC),
            site_id=key[0],
            summary=event.summary,
            summaries=event.summaries,
            evidence_url=evidence_url(evidence_id) if evidence_id is not None else None,
            key=event.key,
            labels=labels,
            details=details,
            source=SOURCE,
        )

    def _frame_for(self, entry: Entry, ref: EvidenceRef) -> tuple[int, bytes] | None:
        jpeg = entry.frames.get(ref.ts)
        if jpeg is not None:
            return ref.ts, jpeg
        if ref.ts in entry.edge_ts or self.now() < entry.edge_until:
            return None  # the edge's evidence frame is still to come
        return entry.newest_frame()  # older than the ring (a long rule fired by time)

    def _save_evidence(
        self,
        conn: psycopg.Connection[Any],
        key: CameraKey,
        entry: Entry,
        event: Event,
        ref: EvidenceRef,
        ts: int,
        jpeg: bytes,
    ) -> int:
        retained = None
        if event.code not in self.review_codes:
            # not reviewed (camera health): no case will keep it; raw-frame retention
            retained = datetime.fromtimestamp(ts / 1000, UTC) + timedelta(
                days=self.settings.frame_retention_days
            )
        stored = evidence_store.save(
            conn,
            self.data_dir,
            site_id=key[0],
            camera_id=key[1],
            ts_ms=ts,
            jpeg=jpeg,
            width=ref.width,
            height=ref.height,
            code=event.code,
            boxes=[b.as_json() for b in ref.boxes],
            model=ref.model,
            zone=ref.zone or event.zone,
            rule=event.rule,
            retained_until=retained,
            context=None if ref.context is None else [b.as_json() for b in ref.context],
        )
        self.stats.evidence += 1
        return stored.id

    def _fulfil(self, conn: psycopg.Connection[Any], key: CameraKey, entry: Entry) -> None:
        """Evidence frames that came after the edge detections that raised a violation."""
        if not entry.pending:
            return
        now = self.now()
        left = []
        for p in entry.pending:
            jpeg = entry.frames.get(p.ref.ts)
            newest = entry.newest_frame() if jpeg is None and now >= p.deadline else None
            if newest is not None and newest[0] >= p.ref.ts:
                jpeg = newest[1]
            if jpeg is not None:
                eid = self._save_evidence(conn, key, entry, p.event, p.ref, p.ref.ts, jpeg)
                evidence_store.link(conn, [eid], p.alert_id)
            elif now < p.deadline + 600:
                left.append(p)
            else:
                log.warning("vision: no evidence frame for alert %d of %s/%s", p.alert_id, *key)
        entry.pending = left

    # ------------------------------------------------------------ frames kept

    def _remember(self, entry: Entry, ts: int, jpeg: bytes) -> None:
        entry.frames[ts] = jpeg
        entry.frames.move_to_end(ts)
        while len(entry.frames) > RING:
            entry.frames.popitem(last=False)

    def _after_commit(self, key: CameraKey, d: Decoded) -> None:
        assert d.jpeg is not None
        site, cam = key
        try:
            entry = self.cache.get(key)
            snap_every = self.settings.snapshot_every_s * 1000
            if self.settings.write_snapshots and (
                entry is None or d.obs.ts - entry.last_snapshot_ms >= snap_every
            ):
                if entry is not None:
                    entry.last_snapshot_ms = d.obs.ts
                    entry.snapshot, entry.snapshot_described = (d.obs.ts, d.jpeg), False
                snapshots.write_frame(self.data_dir, site, cam, d.jpeg)
            every = self.settings.archive_every_s * 1000
            if entry is not None and every and d.obs.ts - entry.last_archive_ms >= every:
                entry.last_archive_ms = d.obs.ts
                day = datetime.fromtimestamp(d.obs.ts / 1000, UTC).strftime("%Y%m%d")
                write_atomic(
                    self.data_dir / "frames" / site / cam / day / f"{d.obs.ts}.jpg", d.jpeg
                )
        except Exception:  # committed already: a failure here must not fail the batch
            log.exception("vision: could not write the frame of %s/%s", site, cam)

    def _describe_snapshot(self, key: CameraKey, msgs: Sequence[Decoded]) -> None:
        """The sidecar of the camera's latest snapshot, once its person boxes are known:
        the frame's own (inferred here) or the camera's detections of its `ts` (before
        or after the frame, this batch or a later one)."""
        entry = self.cache.get(key)
        if entry is None:
            return
        for d in msgs:
            if isinstance(d.obs, FrameSeen) and d.obs.objects is not None:
                entry.seen.append(d.obs)
        if entry.snapshot is None or entry.snapshot_described:
            return
        ts, jpeg = entry.snapshot
        seen = next((f for f in reversed(entry.seen) if f.ts == ts), None)
        if seen is None or seen.objects is None:
            return  # not inferred here; the camera's detections of it are still to come
        persons = [o.box for o in seen.objects if _is_person(entry.cfg, o)]
        try:
            side = snapshots.sidecar(jpeg, ts, seen.width, seen.height, persons)
            snapshots.write_sidecar(self.data_dir, key[0], key[1], side)
            entry.snapshot_described = True
        except (OSError, ValueError):  # committed already: the picture is filtered on faces
            log.exception("vision: could not describe the snapshot of %s/%s", *key)

    # ------------------------------------------------------------ timers

    def watch_registered(self) -> int:
        """Load the registered kitchen cameras never heard from, so that their silence
        since registration raises CAMERA_OFFLINE (issue 15: a kitchen that registers but
        never streams). Returns how many were added."""
        self.watched_at = self.now()
        with self.lock:
            with self.pool.connection() as conn:
                keys = unwatched_kitchen_cameras(conn, list(self.cache))
            keys = [k for k in keys if self._handles(k)]
            if keys:
                self._fenced(keys, lambda entries, conn: None)
        return len(keys)

    def tick_due(self) -> int:
        """Time-only rules of every known camera whose deadline has come (looking up
        the registered cameras never heard from once per registry_ttl_s)."""
        if self.now() - self.watched_at >= max(self.settings.registry_ttl_s, 1.0):
            self.watch_registered()
        with self.lock:
            now_ms = round(self.now() * 1000)
            due = []
            for key, entry in self.cache.items():
                at = next_due(entry.state, entry.cfg, device_time(now_ms, entry.offset_ms))
                if at is not None and server_time(at, entry.offset_ms) <= now_ms or entry.pending:
                    due.append(key)
            if not due:
                return 0

            def fire(entries: dict[CameraKey, Entry], conn: psycopg.Connection[Any]) -> None:
                for key in due:
                    entry = entries.get(key)
                    if entry is None:
                        continue
                    device_now = device_time(now_ms, entry.offset_ms)
                    entry.state, events = tick(entry.state, entry.cfg, device_now)
                    self._emit(conn, key, entry, events)
                    self._fulfil(conn, key, entry)

            self._fenced(due, fire)
            return len(due)

    def _fenced(self, keys: list[CameraKey], work: Callable[..., Any]) -> None:
        """A transaction of the ticker: a partition found lost is given up (its new owner
        ticks it), the rest waits for the next tick."""
        try:
            self._transaction(keys, work)
        except Fenced as lost:
            self.give_up(lost.partitions, lost=True)

    def load_all(self) -> int:
        """Every camera with a saved state, so silence while the worker was down counts
        (with partitions, `adopt` loads those of each partition taken)."""
        if self.ownership is not None:
            return self.watch_registered()
        with self.pool.connection() as conn:
            keys = list(load_states(conn))
        if keys:
            with self.lock:
                self._transaction(keys, lambda entries, conn: None)
        return len(keys) + self.watch_registered()

    # ------------------------------------------------------------ clock offsets

    def _observe_offset(self, entry: Entry, observed_ms: int) -> None:
        entry.offset_ms, entry.offset_at = observe_offset(
            entry.offset_ms, entry.offset_at, observed_ms, self.now()
        )

    # ------------------------------------------------------------ one transaction

    def _transaction(self, keys: list[CameraKey], work: Callable[..., Any]) -> Any:
        snapshot = {k: self.cache[k] for k in keys if k in self.cache}
        saved_states = {k: msgspec.msgpack.encode(e.state) for k, e in snapshot.items()}
        saved_pending = {k: list(e.pending) for k, e in snapshot.items()}
        try:
            with self.pool.connection() as conn, conn.transaction():
                if self.ownership is not None:  # held FOR SHARE until the commit
                    self.ownership.fence(conn, [device_name(k) for k in keys])
                entries = self._entries(conn, keys)
                result = work(entries, conn)
                save_states(
                    conn, [(k, e.state, e.offset_ms, e.pending) for k, e in entries.items()]
                )
        except Exception as exc:
            # states were stepped in place: put back what the table still holds
            for k, raw in saved_states.items():
                self.cache[k].state = msgspec.msgpack.decode(raw, type=CameraState)
                self.cache[k].pending = saved_pending[k]
            for k in keys:
                if k not in snapshot:
                    self.cache.pop(k, None)
            self.stats.last_error = str(exc)[:200]
            raise
        return result

    def _entries(
        self, conn: psycopg.Connection[Any], keys: list[CameraKey]
    ) -> dict[CameraKey, Entry]:
        now = self.now()
        ttl = self.settings.registry_ttl_s
        missing = [k for k in keys if k not in self.cache]
        stale = [k for k in keys if k in self.cache and now - self.cache[k].registry_at > ttl]
        rows = load_cameras(conn, missing + stale) if missing or stale else {}
        registered = registration_times(conn, missing + stale) if missing or stale else {}
        if self.unknown_devices == "accept":
            unknown = [k for k in missing if k not in rows]
            if unknown:
                register_cameras(conn, unknown)
                rows.update(load_cameras(conn, unknown))
        for k in stale:
            self.cache[k].cfg = build_config(
                self.settings, k, rows.get(k), self.locale, registered.get(k)
            )
            self.cache[k].registry_at = now
        if missing:
            stored = load_states(conn, missing)
            for k in missing:
                if k not in rows and self.unknown_devices == "quarantine":
                    if len(self.quarantined) > 100_000:  # bounded, whatever is thrown at it
                        self.quarantined.clear()
                    self.quarantined[k] = now
                    continue
                self.quarantined.pop(k, None)
                saved = stored.get(k)
                self.cache[k] = Entry(
                    state=saved.state if saved else new_state(),
                    cfg=build_config(self.settings, k, rows.get(k), self.locale, registered.get(k)),
                    registry_at=now,
                    offset_ms=saved.clock_offset_ms if saved else None,
                    offset_at=now,
                    pending=list(saved.pending) if saved else [],
                )
        return {k: self.cache[k] for k in keys if k in self.cache}
