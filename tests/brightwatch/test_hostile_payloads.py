"""Hostile device traffic cannot block any consumer (property-based, real broker and database).

Every consumer runs together in one `ComponentSet` (ingest, the elevator rules, the vision
worker without a detector, the alerts outbox relay) against the test's private database
and broker. Each generated example publishes a batch of hostile messages (random bytes,
truncated JSON, U+0000 and lone surrogates in strings and keys, nesting 20..400 deep,
huge numbers, over-long strings, wrong types, unknown enums, odd topics with bad ids,
some retained) on the elevator status/event/stats/availability and the camera
frame/detections/availability topics, then, on the same connection so that they queue
behind the hostile ones, one valid sentinel per consumer:

1. ingest: a status of a fresh elevator lands in `elevator_status`;
2. rules: a RESTART_BLOCK controller event (raised at once, elevators.rules) of a fresh
   elevator gives an `alert` row;
3. vision: a frame and edge detections of fresh cameras are stepped (their
   `vision_rule_state` rows count them);
4. the outbox relay: the alert of (2) comes out on `<root>/alerts/elevator/<id>`.

Each sentinel has a bounded time. Then: every hostile message that is invalid for the
contract is in `dead_letter` (its topic, payload and size), refused by validation (not
by a handler's exception), no hostile device was registered, stored or alerted on, and
every component is still running. Retained hostile messages are cleared at the end.
"""

from __future__ import annotations

import itertools
import json
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from brightwatch.components import ComponentSet
from brightwatch.contract.deadletter import TOPIC_CAP, text
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from brightwatch.vision.rules.state import decode_state
from brightwatch.wiring import build_runtime
from tests.ingest.conftest import status_doc as valid_status
from tests.support.mqtt import Collector
from tests.support.waiting import wait_until

COMPONENTS = ["ingest", "elevators", "vision", "alerts"]
HEALTH = ["mqtt-ingest", "mqtt-rules", "mqtt-vision", "mqtt-alerts"]
EXAMPLES = 25
SENTINEL_TIMEOUT_S = 20.0
# what refusing a message for its content looks like (contract.deadletter.reason_class);
# `refused` (a handler raised on it) and `internal` (a validator crashed) are not that
REFUSED_BY_CRASH = {"refused", "internal"}

# placeholders in generated topics, bound to fresh ids per example and message
ROOT, EID, SITE, CAM = "<root>", "<eid>", "<site>", "<cam>"

# ids the contract refuses (1-64 characters of [A-Za-z0-9_.-]); none contains "/" (a
# topic with more levels matches no subscription and reaches nobody) nor a control
# character (mosquitto disconnects a client that publishes one in a topic)
BAD_IDS = ["bad id", "电梯", "x" * 65, "per%cent", "semi;colon", "", "ü", "y" * 3000]


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, repr=False)
class Hostile:
    """One hostile message; `dead`: invalid for the contract, so it must be dead-lettered
    (False: it may be taken, e.g. a damaged JPEG that libjpeg still decodes)."""

    topic: str
    payload: bytes
    retain: bool = False
    dead: bool = True
    user_ts: str | None = None  # MQTT 5 user property `ts` (frames)
    label: str = ""

    def __repr__(self) -> str:  # what a failing example prints
        retained = ", retained" if self.retain else ""
        return f"<{self.label}: {len(self.payload)} bytes on {self.topic[:100]!r}{retained}>"

    def bind(self, root: str, n: int, k: int) -> Hostile:
        """The message with fresh device ids: example `n`, message `k` (invalid ones in
        namespace H, the ones that may be taken in namespace M)."""
        prefix = "H" if self.dead else "M"
        topic = (
            self.topic.replace(ROOT, root)
            .replace(EID, f"{prefix}{n}x{k}")
            .replace(SITE, f"{prefix}S{n}")
            .replace(CAM, f"c{k}")
        )
        return Hostile(topic, self.payload, self.retain, self.dead, self.user_ts, self.label)


# ---------------------------------------------------------------------------- payloads


def tiny_jpeg(value: int = 128, width: int = 32, height: int = 24) -> bytes:
    image = np.full((height, width, 3), value, np.uint8)
    image[::4, ::4] = 255 - value  # some texture
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    return buf.tobytes()


JPEG = tiny_jpeg()


def status_doc(ts: int, seq: int = 1) -> dict[str, Any]:
    return valid_status(seq, ts)


def event_doc(ts: int, seq: int = 1) -> dict[str, Any]:
    return {"ts": ts, "seq": seq, "code": "RESTART_BLOCK", "state": "raise", "detail": "lock"}


def stats_doc(ts: int, seq: int = 1) -> dict[str, Any]:
    return {
        "ts": ts,
        "seq": seq,
        "run_count": 10,
        "run_hours": 1.5,
        "door_cycles": 20,
        "distance_km": 3.2,
    }


def detections_doc(ts: int, seq: int = 1) -> dict[str, Any]:
    return {
        "ts": ts,
        "seq": seq,
        "model": "edge@1",
        "width": 320,
        "height": 240,
        "objects": [{"label": "person", "score": 0.5, "box": [1, 2, 30, 40]}],
    }


DOCS: dict[str, Callable[[int], dict[str, Any]]] = {
    "status": status_doc,
    "event": event_doc,
    "stats": stats_doc,
    "detections": detections_doc,
}
# required fields of each message (a wrong value there is always invalid)
REQUIRED = {
    "status": [
        "ts",
        "seq",
        "service_mode",
        "run_state",
        "floor",
        "door_zone",
        "door_state",
        "has_person",
        "speed",
    ],
    "event": ["ts", "seq", "code", "state"],
    "stats": ["ts", "seq"],
    "detections": ["ts", "seq", "model", "width", "height", "objects"],
}
NUMERIC = {
    "status": ["ts", "seq", "floor", "speed"],
    "event": ["ts", "seq"],
    "stats": ["ts", "seq"],
    "detections": ["ts", "seq", "width", "height"],
}
ENUMS = {
    "status": ["service_mode", "run_state", "door_state", "direction"],
    "event": ["state"],
}
TEXT = {"event": ["code"], "detections": ["model"]}
MARK = "__poison__"


def encode(doc: dict[str, Any]) -> bytes:
    # ensure_ascii: U+0000 and lone surrogates travel as \u escapes, as a device would
    return json.dumps(doc, ensure_ascii=True).encode()


def nested(depth: int, as_list: bool) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


def bad_text_value() -> st.SearchStrategy[str]:
    """A string the contract cannot store or serve: U+0000, a lone surrogate, too long."""
    return st.one_of(
        st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "\ud800\x00"]),
        st.integers(4097, 70_000).map(lambda n: "s" * n),
    )


@st.composite
def bad_extra(draw: st.DrawFn) -> tuple[str, Any, str]:
    """(key, value, what) of an unknown field beyond the contract's JSON limits."""
    what = draw(st.sampled_from(["value", "key", "long_key", "deep", "keys", "items", "in_list"]))
    if what == "value":
        return "extra", draw(bad_text_value()), what
    if what == "key":
        return draw(st.sampled_from(["k\x00", "\x00", "\ud800", "k\udbff"])), 1, what
    if what == "long_key":
        return "k" * draw(st.integers(4097, 20_000)), 1, what
    if what == "deep":
        depth = draw(st.integers(20, 400))
        return "extra", nested(depth, draw(st.booleans())), f"deep {depth}"
    if what == "keys":
        return "extra", {f"k{i}": i for i in range(draw(st.integers(257, 600)))}, what
    if what == "items":
        return "extra", list(range(draw(st.integers(1001, 3000)))), what
    return "extra", [{"ok": 1}, {"note": draw(bad_text_value())}], what


@st.composite
def hostile_json(draw: st.DrawFn, kind: str) -> tuple[bytes, str]:
    """A JSON payload of `kind` (status, event, stats, detections) that the contract
    refuses, and how it was spoiled."""
    doc = DOCS[kind](now_ms() - 5_000)
    how = draw(
        st.sampled_from(
            [
                "extra",
                "wrong_type",
                "huge_int",
                "huge_float",
                "enum",
                "text",
                "missing",
                "deep_field",
                "truncated",
                "not_object",
                "random",
                "raw_surrogate",
                "raw_nul",
                "trailing",
                "oversize",
                "bad_ts",
            ]
        )
    )
    if how == "enum" and kind not in ENUMS:
        how = "wrong_type"
    if how == "text" and kind not in TEXT:
        how = "extra"
    if how == "extra":
        key, value, what = draw(bad_extra())
        doc[key] = value
        return encode(doc), f"extra {what}"
    if how == "wrong_type":
        field = draw(st.sampled_from(REQUIRED[kind]))
        is_text = field in ENUMS.get(kind, []) + TEXT.get(kind, [])
        doc[field] = draw(st.sampled_from([[1], {"x": 1}, None, 12 if is_text else "text"]))
        return encode(doc), f"wrong type {field}"
    if how in ("huge_int", "huge_float"):
        field = draw(st.sampled_from(NUMERIC[kind]))
        if how == "huge_int":
            literal = str(draw(st.sampled_from([1, -1])) * 10 ** draw(st.integers(19, 400)))
        else:
            literal = draw(st.sampled_from(["1e400", "-1e400", "1e308", "-1e308", "NaN"]))
        doc[field] = MARK
        return encode(doc).replace(f'"{MARK}"'.encode(), literal.encode()), f"{how} {field}"
    if how == "enum":
        field = draw(st.sampled_from(ENUMS[kind]))
        doc[field] = draw(st.sampled_from(["party", "NORMAL", "", "sideways", "raise\x00"]))
        return encode(doc), f"enum {field}"
    if how == "text":
        field = draw(st.sampled_from(TEXT[kind]))
        doc[field] = draw(bad_text_value())
        return encode(doc), f"text {field}"
    if how == "missing":
        del doc[draw(st.sampled_from(REQUIRED[kind]))]
        return encode(doc), how
    if how == "deep_field":
        field = draw(st.sampled_from(REQUIRED[kind]))
        doc[field] = nested(draw(st.integers(20, 400)), draw(st.booleans()))
        return encode(doc), f"deep {field}"
    raw = encode(doc)
    if how == "truncated":
        return raw[: draw(st.integers(1, len(raw) - 1))], how
    if how == "not_object":
        return draw(st.sampled_from([b"[]", b"1", b'"status"', b"null", b"true", b"[{}]"])), how
    if how == "random":
        return draw(st.binary(min_size=1, max_size=300)), how
    if how == "raw_surrogate":  # the UTF-8 form of U+D800: not UTF-8 at all
        return raw.replace(b'"seq"', b'"se\xed\xa0\x80q"'), how
    if how == "raw_nul":  # a control character inside a string: not JSON
        return raw.replace(b'"seq"', b'"se\x00q"'), how
    if how == "trailing":
        return raw + draw(st.sampled_from([b"x", b"}", b",{}", b"\x00"])), how
    if how == "oversize":  # over the 64 KiB a device message may have
        doc["extra"] = "p" * draw(st.integers(65_536, 80_000))
        return encode(doc), how
    # bad_ts
    doc["ts"] = draw(
        st.sampled_from(
            [
                "yesterday",
                "2024-13-45T00:00:00Z",
                "2024-01-01T00:00:00",  # no offset
                "1999-12-31T23:59:59Z",
                "2100-01-01T00:00:00Z",
                now_ms() + 3 * 86_400_000,  # days ahead of the server clock
                0,
                "\x00",
            ]
        )
    )
    return encode(doc), how


def bad_availability() -> st.SearchStrategy[bytes]:
    def valid(raw: bytes) -> bool:
        try:
            return raw.decode("utf-8").strip() in ("online", "offline")
        except UnicodeDecodeError:
            return False

    return st.one_of(
        st.sampled_from(
            [b"maybe", b"ONLINE", b"online\x00", b"\xff\xfe", b"on line", b'"online"', b"0"]
        ),
        st.binary(min_size=1, max_size=64).filter(lambda b: not valid(b)),
    )


def patched_dims(width: int, height: int) -> bytes:
    """The tiny JPEG with other dimensions written in its SOF header (the data is short)."""
    data = bytearray(JPEG)
    at = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


@st.composite
def hostile_frame(draw: st.DrawFn) -> Hostile:
    topic = f"{ROOT}/kitchens/{SITE}/cameras/{CAM}/frame"
    how = draw(st.sampled_from(["not_jpeg", "soi_garbage", "truncated", "dims", "bad_ts"]))
    if how == "not_jpeg":
        raw = draw(st.binary(min_size=0, max_size=300).filter(lambda b: b[:2] != b"\xff\xd8"))
        return Hostile(topic, raw or b"\x00", label="frame not a JPEG")
    if how == "soi_garbage":
        raw = b"\xff\xd8" + draw(st.binary(min_size=0, max_size=300))
        # under 4 bytes is refused by the contract; longer ones are up to the decoder
        return Hostile(topic, raw, dead=len(raw) < 4, label="frame SOI + garbage")
    if how == "truncated":
        cut = draw(st.integers(2, len(JPEG) - 1))
        return Hostile(topic, JPEG[:cut], dead=False, label="frame truncated")
    if how == "dims":
        # kept small: a frame claiming huge dimensions makes the decoder allocate them
        w, h = draw(st.integers(0, 1500)), draw(st.integers(0, 1500))
        return Hostile(topic, patched_dims(w, h), dead=False, label=f"frame claims {w}x{h}")
    user_ts = draw(st.sampled_from(["0", "-5", "946684799999", "9" * 30, str(now_ms() + 2e9)]))
    return Hostile(topic, JPEG, user_ts=user_ts.split(".")[0], label="frame bad ts")


def elevator_topic(channel: str, bad_id: str | None = None) -> str:
    return f"{ROOT}/elevators/{EID if bad_id is None else bad_id}/{channel}"


def camera_topic(channel: str, bad_site: str | None = None, bad_cam: str | None = None) -> str:
    site = SITE if bad_site is None else bad_site
    cam = CAM if bad_cam is None else bad_cam
    return f"{ROOT}/kitchens/{site}/cameras/{cam}/{channel}"


@st.composite
def odd_topic(draw: st.DrawFn) -> Hostile:
    """A valid payload on a topic whose id the contract refuses."""
    bad = draw(st.sampled_from(BAD_IDS))
    channel = draw(
        st.sampled_from(
            ["status", "event", "stats", "availability", "frame", "detections", "cam_availability"]
        )
    )
    ts = now_ms() - 5_000
    if channel in DOCS and channel != "detections":
        return Hostile(elevator_topic(channel, bad), encode(DOCS[channel](ts)), label="odd id")
    if channel == "availability":
        return Hostile(elevator_topic(channel, bad), b"online", label="odd id")
    payload = {"frame": JPEG, "detections": encode(detections_doc(ts))}.get(channel, b"online")
    which = draw(st.sampled_from(["site", "camera"]))
    topic = camera_topic(
        "availability" if channel == "cam_availability" else channel,
        bad if which == "site" else None,
        bad if which == "camera" else None,
    )
    return Hostile(topic, payload, label=f"odd {which} id")


@st.composite
def hostile_message(draw: st.DrawFn) -> Hostile:
    target = draw(
        st.sampled_from(
            [
                "status",
                "event",
                "stats",
                "availability",
                "frame",
                "detections",
                "cam_availability",
                "odd_topic",
            ]
        )
    )
    if target in ("status", "event", "stats"):
        raw, how = draw(hostile_json(target))
        msg = Hostile(elevator_topic(target), raw, label=f"{target}: {how}")
    elif target == "detections":
        raw, how = draw(hostile_json("detections"))
        msg = Hostile(camera_topic("detections"), raw, label=f"detections: {how}")
    elif target == "availability":
        msg = Hostile(elevator_topic("availability"), draw(bad_availability()), label=target)
    elif target == "cam_availability":
        msg = Hostile(camera_topic("availability"), draw(bad_availability()), label=target)
    elif target == "frame":
        msg = draw(hostile_frame())
    else:
        msg = draw(odd_topic())
    # some are retained (an empty retained payload would clear, not publish: never empty)
    retain = bool(msg.payload) and draw(st.integers(0, 3)) == 0
    return Hostile(msg.topic, msg.payload, retain, msg.dead, msg.user_ts, msg.label)


# ---------------------------------------------------------------------------- the system


class Publisher:
    """One MQTT 5 connection for the whole test: hostile messages and the sentinels that
    follow them go out in order on it (QoS 1, each acknowledged by the broker)."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"hostile-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.max_inflight_messages_set(200)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def send(self, messages: list[tuple[str, bytes, bool, str | None]]) -> None:
        infos = []
        for topic, payload, retain, user_ts in messages:
            props = None
            if user_ts is not None:
                props = Properties(PacketTypes.PUBLISH)
                props.UserProperty = ("ts", user_ts)
            infos.append(
                self.client.publish(topic, payload, qos=1, retain=retain, properties=props)
            )
        for info in infos:
            info.wait_for_publish(15)
            assert info.is_published(), "the broker did not acknowledge a publish"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Sentinels:
    status_eid: str
    event_eid: str
    frame_cam: tuple[str, str]
    detections_cam: tuple[str, str]

    @classmethod
    def fresh(cls, tag: str) -> Sentinels:
        return cls(f"S{tag}", f"R{tag}", ("VS", f"f{tag}"), ("VS", f"d{tag}"))

    def messages(self, root: str) -> list[tuple[str, bytes, bool, str | None]]:
        ts = now_ms()
        site, fcam = self.frame_cam
        dsite, dcam = self.detections_cam
        return [
            (f"{root}/elevators/{self.status_eid}/status", encode(status_doc(ts)), False, None),
            (f"{root}/elevators/{self.event_eid}/event", encode(event_doc(ts)), False, None),
            (f"{root}/kitchens/{site}/cameras/{fcam}/frame", JPEG, False, str(ts)),
            (
                f"{root}/kitchens/{dsite}/cameras/{dcam}/detections",
                encode(detections_doc(ts)),
                False,
                None,
            ),
        ]


class System:
    """What the test reads back: one autocommit connection."""

    def __init__(self, db_url: str, root: str, collector: Collector) -> None:
        self.conn = psycopg.connect(db_url, autocommit=True)
        self.root = root
        self.collector = collector

    def close(self) -> None:
        self.conn.close()

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def ingested(self, eid: str) -> bool:
        return bool(self.one("SELECT count(*) FROM elevator_status WHERE elevator_id = %s", (eid,)))

    def alerted(self, eid: str) -> bool:
        return bool(
            self.one(
                "SELECT count(*) FROM alert WHERE kind = 'elevator' AND device_id = %s"
                " AND code = 'RESTART_BLOCK'",
                (eid,),
            )
        )

    def stepped(self, key: tuple[str, str]) -> bool:
        raw = self.one(
            "SELECT state FROM vision_rule_state WHERE site_id = %s AND camera_id = %s", key
        )
        return raw is not None and decode_state(bytes(raw)).last_seen is not None

    def relayed(self, eid: str) -> bool:
        return bool(self.collector.on(f"{self.root}/alerts/elevator/{eid}"))

    def last_dead_letter(self) -> int:
        return int(self.one("SELECT coalesce(max(id), 0) FROM dead_letter"))

    def dead_letters_after(self, mark: int) -> list[tuple[str, bytes, int, str, str]]:
        rows = self.conn.execute(
            "SELECT topic, payload, payload_size, reason, reason_class FROM dead_letter"
            " WHERE id > %s ORDER BY id",
            (mark,),
        ).fetchall()
        return [(t, bytes(p or b""), n, r, c) for t, p, n, r, c in rows]

    def hostile_devices_seen(self, eids: list[str], cameras: list[str]) -> list[str]:
        """Hostile (refused) devices found anywhere a valid message would leave them."""
        found: list[str] = []
        for table, column in (
            ("elevator", "elevator_id"),
            ("elevator_status", "elevator_id"),
            ("elevator_event", "elevator_id"),
            ("elevator_stats", "elevator_id"),
            ("elevator_rule_state", "elevator_id"),
        ):
            rows = self.conn.execute(
                f"SELECT DISTINCT {column} FROM {table} WHERE {column} = ANY(%s)", (eids,)
            ).fetchall()
            found += [f"{table}: {r[0]}" for r in rows]
        for table in ("camera", "vision_rule_state"):
            rows = self.conn.execute(
                f"SELECT site_id || '/' || camera_id FROM {table}"
                " WHERE site_id || '/' || camera_id = ANY(%s)",
                (cameras,),
            ).fetchall()
            found += [f"{table}: {r[0]}" for r in rows]
        rows = self.conn.execute(
            "SELECT kind, site_id, device_id, code FROM alert"
            " WHERE (kind = 'elevator' AND device_id = ANY(%s))"
            " OR (kind = 'kitchen' AND site_id || '/' || device_id = ANY(%s))",
            (eids, cameras),
        ).fetchall()
        found += [f"alert: {r}" for r in rows]
        return found


def clear_retained(port: int, topics: set[str]) -> None:
    """An empty retained message on each topic (on a connection of its own: the test's
    may be the reason it failed)."""
    if not topics:
        return
    publisher = Publisher(port)
    try:
        publisher.send([(t, b"", True, None) for t in sorted(topics)])
    finally:
        publisher.close()


def assert_running(components: ComponentSet) -> None:
    assert not components.failed, f"components failed: {components.failed}"
    assert not components.stop.is_set(), "the component set stopped"
    dead = [t.name for t in components.threads if not t.is_alive()]
    assert not dead, f"component threads ended: {dead}"


def wait_sentinels(
    system: System, s: Sentinels, what: str, timeout: float = SENTINEL_TIMEOUT_S
) -> None:
    """Each consumer's sentinel taken, each within `timeout` seconds."""
    for name, probe in (
        ("ingest", lambda: system.ingested(s.status_eid)),
        ("rules", lambda: system.alerted(s.event_eid)),
        ("vision frame", lambda: system.stepped(s.frame_cam)),
        ("vision detections", lambda: system.stepped(s.detections_cam)),
        ("outbox relay", lambda: system.relayed(s.event_eid)),
    ):
        wait_until(probe, timeout, interval=0.05, what=f"{what}: {name} sentinel")


@pytest.fixture
def hostile_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            # no detector: the vision worker takes edge detections and measures frames
            "model": str(tmp_path / "no-detector.onnx"),
            "unknown_devices": "accept",
            # every refused message stored (the per-device flood cap is tested elsewhere)
            "ingest": settings.ingest.model_copy(
                update={"dead_letters_per_device_hour": 1_000_000}
            ),
        }
    )


@pytest.fixture
def system_running(
    hostile_settings: Settings, broker: EmbeddedBroker
) -> Iterator[tuple[ComponentSet, System, Publisher]]:
    settings = hostile_settings
    root = settings.topic_root
    runtime = build_runtime(settings)
    components = ComponentSet(runtime, COMPONENTS)
    publisher = Publisher(broker.port)
    collector = Collector(broker.port, [f"{root}/alerts/#"])
    collector.__enter__()
    system = System(settings.database_url.get_secret_value(), root, collector)
    components.start()
    try:
        wait_until(
            lambda: (
                components.failed
                or all(h in runtime.health and runtime.health[h]() for h in HEALTH)
            ),
            60,
            what="every component connected",
        )
        assert_running(components)
        # ingest reports connected before its subscription is in place: warm up with
        # sentinels, sent again until every consumer has taken them
        warm = Sentinels.fresh("warm")

        def warmed() -> bool:
            publisher.send(warm.messages(root))
            try:
                wait_sentinels(system, warm, "warm-up", timeout=3)
            except AssertionError:
                return False
            return True

        deadline = time.monotonic() + 60
        while not warmed():
            assert time.monotonic() < deadline, "the consumers did not take the warm-up"
            assert_running(components)
        yield components, system, publisher
    finally:
        components.shutdown()
        system.close()
        collector.__exit__(None, None, None)
        publisher.close()


# ---------------------------------------------------------------------------- the test


def test_hostile_payloads_block_no_consumer(
    system_running: tuple[ComponentSet, System, Publisher],
    hostile_settings: Settings,
    broker: EmbeddedBroker,
) -> None:
    components, system, publisher = system_running
    root = hostile_settings.topic_root
    cap = hostile_settings.ingest.dead_letter_max_bytes
    counter = itertools.count()
    retained: set[str] = set()
    timings: list[float] = []
    published: Counter[str] = Counter()  # hostile messages by how they were spoiled
    classes: Counter[str] = Counter()  # their dead letters by reason class
    lock = threading.Lock()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        # no shrinking: each example runs the whole system (a failure prints its batch)
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(batch=st.lists(hostile_message(), min_size=3, max_size=16))
    def example(batch: list[Hostile]) -> None:
        with lock:
            n = next(counter)
        started = time.monotonic()
        hostile = [h.bind(root, n, k) for k, h in enumerate(batch)]
        note(f"example {n}: {hostile}")
        retained.update(h.topic for h in hostile if h.retain)
        sentinels = Sentinels.fresh(str(n))
        mark = system.last_dead_letter()
        publisher.send(
            [(h.topic, h.payload, h.retain, h.user_ts) for h in hostile] + sentinels.messages(root)
        )
        wait_sentinels(system, sentinels, f"example {n} ({len(hostile)} hostile)")
        assert_running(components)

        # every invalid message dead-lettered, with its topic, payload and size
        must = [h for h in hostile if h.dead]

        def missing() -> list[str]:
            stored = {(t, p, size) for t, p, size, _, _ in system.dead_letters_after(mark)}
            return [
                f"{h.label} on {h.topic[:80]!r}"
                for h in must
                if (text(h.topic, TOPIC_CAP), h.payload[:cap], len(h.payload)) not in stored
            ]

        try:
            wait_until(lambda: not missing(), 10, what="the hostile messages' dead letters")
        except AssertionError:
            raise AssertionError(f"not dead-lettered: {missing()}") from None
        # refused by validation, not by a consumer tripping over them
        crashed = [
            (t[:80], r[:200])
            for t, _, _, r, c in system.dead_letters_after(mark)
            if c in REFUSED_BY_CRASH
        ]
        assert not crashed, f"dead-lettered after a handler failed on them: {crashed}"
        # nothing of a refused message registered, stored, stepped or alerted on
        eids = [h.topic.split("/")[-2] for h in must if "/elevators/" in h.topic]
        cams = ["/".join(h.topic.split("/")[-4:-1:2]) for h in must if "/kitchens/" in h.topic]
        seen = system.hostile_devices_seen(eids, cams)
        assert not seen, f"refused messages left traces: {seen}"
        timings.append(time.monotonic() - started)
        published.update(h.label.split(":")[0] for h in hostile)
        classes.update(c for *_, c in system.dead_letters_after(mark))

    try:
        example()
    finally:
        clear_retained(broker.port, retained)
    with Collector(broker.port, [f"{root}/elevators/#", f"{root}/kitchens/#"]) as col:
        time.sleep(0.5)  # retained messages come right after the subscription
    left = [m.topic for m in col.messages if m.retain]
    assert not left, f"retained messages left behind: {left}"
    assert_running(components)
    print(
        f"\n{len(timings)} examples, {sum(published.values())} hostile messages"
        f" ({dict(published)}), {sum(timings):.1f} s, slowest {max(timings, default=0):.2f} s;"
        f" dead letters by reason: {dict(classes)}"
    )
