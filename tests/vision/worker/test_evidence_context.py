"""The worker stores every object of an evidence frame beside the boxes that raised the
violation (`evidence.context`, migration 0109), for the review export's labels."""

from __future__ import annotations

import json

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

PERSON = [200.0, 20.0, 300.0, 230.0]  # well away from the rat: RODENT does not reject it


def detections(ts: int, k: int) -> bytes:
    rat = [20.0 + 30 * k, 150.0, 70.0 + 30 * k, 190.0]  # moves: RODENT needs motion
    body = {
        "ts": ts,
        "seq": k,
        "model": "kitchen-edge@3",
        "width": 320,
        "height": 240,
        "objects": [
            {"label": "rat", "score": 0.8, "box": rat},
            {"label": "person", "score": 0.9, "box": PERSON},
        ],
    }
    return json.dumps(body).encode()


def test_evidence_keeps_the_other_objects_of_its_frame(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    """[bounded: 4 frames, about 10 s]"""
    db = settings.database_url.get_secret_value()
    settings = settings.model_copy(update={"model": str(data_file(settings, "no-model.onnx"))})
    camera = Camera(broker.port, settings.topic_root)
    start = now_ms() - 10_000
    try:
        with vision_running(settings):
            for k in range(4):
                ts = start + 500 * k
                camera.frames([(ts, solid(90 + k))], seq=k)
                camera.send("detections", detections(ts, k))
            wait_until(lambda: processed(db, 4), timeout=60, what="4 detections processed")
            found = wait_until(lambda: alerts(db, "RODENT"), timeout=30, what="RODENT")
            rows = wait_until(lambda: evidence(db, found[0]["id"]), timeout=30, what="evidence")
    finally:
        camera.close()
    for row in rows:
        assert [b["label"] for b in row["boxes"]] == ["rat"]  # what raised the code
        assert sorted(b["label"] for b in row["context"]) == ["person", "rat"]
        (person,) = [b for b in row["context"] if b["label"] == "person"]
        assert person["box"] == PERSON and person["model"] == "kitchen-edge@3"
