"""Edge inference: the agent sends the evidence frame (user properties `ts` and `seq`),
then the detections JSON with the same `ts`; the worker takes the detections as they
are (no central inference of that frame) and keeps the frame as evidence."""

from __future__ import annotations

import json
from typing import Any

from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from tests.support.waiting import wait_until
from tests.vision.worker.support import (
    Camera,
    alerts,
    data_file,
    evidence,
    now_ms,
    processed,
    solid,
    vision_running,
)


def rat_detections(ts: int, k: int) -> bytes:
    """The agent's detections JSON for sample `k`: a rat that moves (RODENT needs motion)."""
    body = {
        "ts": ts,
        "seq": k,
        "model": "rat-edge@7",
        "width": 320,
        "height": 240,
        "objects": [{"label": "rat", "score": 0.8, "box": [20 + 30 * k, 150, 70 + 30 * k, 190]}],
    }
    return json.dumps(body).encode()


def evidence_of(settings: Settings, alert_id: int, jpeg: bytes) -> list[dict[str, Any]]:
    """The alert's evidence rows whose picture is `jpeg` (none yet: [])."""
    rows = evidence(settings.database_url.get_secret_value(), alert_id)
    files = [data_file(settings, r["path"]) for r in rows]
    return [r for r, f in zip(rows, files, strict=True) if f.is_file() and f.read_bytes() == jpeg]


def test_edge_detections_raise_with_their_evidence_frame(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    db = settings.database_url.get_secret_value()
    # no detector at all on the server: only the edge's detections can raise anything
    settings = settings.model_copy(update={"model": str(data_file(settings, "no-model.onnx"))})
    camera = Camera(broker.port, settings.topic_root)
    start = now_ms() - 10_000
    try:
        with vision_running(settings):
            for k in range(4):
                ts = start + 500 * k
                camera.frames([(ts, solid(90 + k))], seq=k)
                camera.send("detections", rat_detections(ts, k))
            wait_until(lambda: processed(db, 4), timeout=60, what="4 detections processed")
            found = wait_until(lambda: alerts(db, "RODENT"), timeout=30, what="RODENT")
            # the evidence includes the frame sent with the detections that confirmed it
            # (ts + 500 ms); rows of other frames may be saved in an earlier batch
            rows = wait_until(
                lambda: evidence_of(settings, found[0]["id"], solid(91)),
                timeout=30,
                what="the confirming frame as evidence",
            )
    finally:
        camera.close()
    assert len(found) == 1 and found[0]["count"] == 1
    assert rows[-1]["model"] == "rat-edge@7"
    assert rows[-1]["boxes"][0]["label"] == "rat"


def test_evidence_awaited_over_a_restart_is_attached_when_its_frame_comes(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    """Detections that raise a violation before their frame: the worker stops in between,
    and the frame that comes after the restart still becomes the alert's evidence."""
    db = settings.database_url.get_secret_value()
    settings = settings.model_copy(update={"model": str(data_file(settings, "no-model.onnx"))})
    camera = Camera(broker.port, settings.topic_root)
    start = now_ms() - 10_000
    stamps = [start + 500 * k for k in range(4)]
    try:
        with vision_running(settings):
            for k, ts in enumerate(stamps):
                camera.send("detections", rat_detections(ts, k))
            wait_until(lambda: processed(db, 4), timeout=60, what="4 detections processed")
            found = wait_until(lambda: alerts(db, "RODENT"), timeout=30, what="RODENT")
        assert evidence(db, found[0]["id"]) == []  # no frame yet
        with vision_running(settings):
            for k, ts in enumerate(stamps):
                camera.frames([(ts, solid(90 + k))], seq=k)
            # the frame of the detections that confirmed the violation (the second); a
            # frame that came in an earlier batch may be saved first
            rows = wait_until(
                lambda: evidence_of(settings, found[0]["id"], solid(91)),
                timeout=30,
                what="the confirming frame as evidence",
            )
    finally:
        camera.close()
    assert len(alerts(db, "RODENT")) == 1
    assert rows[-1]["model"] == "rat-edge@7" and rows[-1]["boxes"][0]["label"] == "rat"
