"""Kitchen alerts and evidence made the way the vision pipeline makes them: an alert
through `AlertStore.apply_signal` (kind "kitchen", device_id = camera_id, labels with
site, camera, district, zone) and `evidence` rows with JPEG files under BW_DATA_DIR."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from brightwatch.alerts.model import AlertChange, AlertSignal
from brightwatch.alerts.store import AlertStore


def jpeg(seed: int, width: int = 320, height: int = 240) -> bytes:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    return buf.tobytes()


def raise_violation(
    conn: psycopg.Connection[Any],
    store: AlertStore,
    code: str,
    site: str,
    camera: str,
    tier: str,
    at: datetime,
    *,
    district: str = "Futian",
    active: bool = True,
) -> AlertChange | None:
    signal = AlertSignal(
        kind="kitchen",
        code=code,
        severity=tier,
        device_id=camera,
        site_id=site,
        active=active,
        at=at,
        summary=f"{code} at {site}/{camera}",
        labels={"site_id": site, "camera_id": camera, "district": district, "zone": "prep"},
        source="vision",
    )
    with conn.transaction():
        return store.apply_signal(conn, signal)


def add_evidence(
    conn: psycopg.Connection[Any],
    data_dir: Path,
    alert_id: int,
    site: str,
    camera: str,
    code: str,
    at: datetime,
    boxes: list[dict[str, Any]],
    seed: int = 0,
    model: str = "kitchen-yolo@1",
) -> int:
    data = jpeg(seed)
    rel = Path("evidence") / site / camera / f"{alert_id}-{seed}.jpg"
    (data_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    (data_dir / rel).write_bytes(data)
    row = conn.execute(
        "INSERT INTO evidence (site_id, camera_id, alert_id, captured_at, path, sha256, size_bytes, width,"
        " height, code, boxes, model, zone, rule) VALUES (%s, %s, %s, %s, %s, %s, %s, 320, 240, %s, %s, %s,"
        " 'prep', %s) RETURNING id",
        (
            site,
            camera,
            alert_id,
            at,
            rel.as_posix(),
            hashlib.sha256(data).hexdigest(),
            len(data),
            code,
            Jsonb(boxes),
            model,
            f"{code}: N=3 of M=5 frames, 3 s",
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])
