"""Running the vision component on the test broker and database, publishing camera
traffic the way the camera agent does (MQTT 5, QoS 1, capture time in the user property
`ts`), and reading what came out."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from psycopg.rows import dict_row

from brightwatch.components import ComponentSet
from brightwatch.contract.topics import camera_topic
from brightwatch.settings import Settings
from brightwatch.vision.rules.state import CameraState, decode_state
from brightwatch.wiring import build_runtime

SITE = "K001"
CAMERA = "cam1"


def jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def solid(value: int, width: int = 320, height: int = 240) -> bytes:
    return jpeg(np.full((height, width, 3), value, np.uint8))


def now_ms() -> int:
    return int(time.time() * 1000)


@contextmanager
def vision_running(settings: Settings) -> Iterator[ComponentSet]:
    runtime = build_runtime(settings)
    components = ComponentSet(runtime, ["vision"])
    components.start()
    try:
        deadline = time.monotonic() + 60
        probe = runtime.health
        while not ("mqtt-vision" in probe and probe["mqtt-vision"]()):
            assert not components.failed, "the vision component failed to start"
            assert time.monotonic() < deadline, "the vision component did not subscribe"
            time.sleep(0.05)
        yield components
    finally:
        components.shutdown()
    assert not components.failed, f"failed: {components.failed}"


class Camera:
    """A publisher standing in for one camera agent."""

    def __init__(self, port: int, root: str, site: str = SITE, camera: str = CAMERA) -> None:
        self.root, self.site, self.camera = root, site, camera
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"cam-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.max_inflight_messages_set(50)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def topic(self, channel: str) -> str:
        return camera_topic(self.root, self.site, self.camera, channel)

    def frames(self, frames: Iterable[tuple[int, bytes]], seq: int | None = None) -> int:
        """Frames with their capture time; `seq`: as the agent's evidence frames of edge
        detections (user property `seq`)."""
        infos = []
        for ts, data in frames:
            props = Properties(PacketTypes.PUBLISH)
            props.UserProperty = ("ts", str(ts))
            if seq is not None:
                props.UserProperty = ("seq", str(seq))
            infos.append(self.client.publish(self.topic("frame"), data, qos=1, properties=props))
        for info in infos:
            info.wait_for_publish(30)
        return len(infos)

    def send(self, channel: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(self.topic(channel), payload, qos=1, retain=retain).wait_for_publish(30)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def alerts(db_url: str, code: str | None = None) -> list[dict[str, Any]]:
    with psycopg.connect(db_url) as conn, conn.cursor(row_factory=dict_row) as cur:
        sql = "SELECT * FROM alert WHERE kind = 'kitchen'" + (" AND code = %s" if code else "")
        return cur.execute(sql + " ORDER BY id", (code,) if code else ()).fetchall()


def evidence(db_url: str, alert_id: int) -> list[dict[str, Any]]:
    with psycopg.connect(db_url) as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM evidence WHERE alert_id = %s ORDER BY id", (alert_id,)
        ).fetchall()


def state(db_url: str, site: str = SITE, camera: str = CAMERA) -> CameraState | None:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT state FROM vision_rule_state WHERE site_id = %s AND camera_id = %s",
            (site, camera),
        ).fetchone()
    return decode_state(bytes(row[0])) if row else None


def processed(db_url: str, at_least: int) -> CameraState | None:
    st = state(db_url)
    return st if st is not None and st.frames >= at_least else None


def data_file(settings: Settings, rel: str) -> Path:
    return Path(settings.data_dir) / rel
