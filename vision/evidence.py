"""Evidence of kitchen violations: the JPEG frames that confirmed a violation, stored under
BW_DATA_DIR with their SHA-256 in the `evidence` table (kitchens.md, Evidence), read back
with the hash checked, and an annotated copy (boxes drawn) made on demand.

Files are content-addressed (`evidence/<site>/<camera>/<day>/<ts>-<code>-<sha12>.jpg`)
and written atomically before the row: a rolled-back transaction leaves at most a file
without a row, which the retention sweep removes; a redelivered batch writes the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from alerts import files
from vision.detector.base import Detection
from vision.detector.draw import annotate


class EvidenceMissing(LookupError):
    """The stored picture cannot be decoded or annotated."""


@dataclass(frozen=True)
class Stored:
    id: int
    path: str
    sha256: str


def relative_path(site_id: str, camera_id: str, ts_ms: int, code: str, sha256: str) -> str:
    day = datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y%m%d")
    return f"evidence/{site_id}/{camera_id}/{day}/{ts_ms}-{code}-{sha256[:12]}.jpg"


def save(
    conn: psycopg.Connection[Any],
    data_dir: Path,
    *,
    site_id: str,
    camera_id: str,
    ts_ms: int,
    jpeg: bytes,
    width: int,
    height: int,
    code: str,
    boxes: Sequence[dict[str, Any]],
    model: str | None,
    zone: str | None,
    rule: str | None,
    alert_id: int | None = None,
    retained_until: datetime | None = None,
) -> Stored:
    digest = files.sha256(jpeg)
    rel = relative_path(site_id, camera_id, ts_ms, code, digest)
    target = data_dir / rel
    if not (target.exists() and target.stat().st_size == len(jpeg)):
        files.write_atomic(target, jpeg)
    row = conn.execute(
        "INSERT INTO evidence (site_id, camera_id, alert_id, captured_at, path, sha256, size_bytes,"
        " width, height, code, boxes, model, zone, rule, retained_until)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            site_id,
            camera_id,
            alert_id,
            datetime.fromtimestamp(ts_ms / 1000, UTC),
            rel,
            digest,
            len(jpeg),
            width,
            height,
            code,
            Jsonb(list(boxes)),
            model or None,
            zone or None,
            rule or None,
            retained_until,
        ),
    ).fetchone()
    assert row is not None
    return Stored(int(row[0]), rel, digest)


def link(conn: psycopg.Connection[Any], evidence_ids: Sequence[int], alert_id: int) -> None:
    conn.execute(
        "UPDATE evidence SET alert_id = %s WHERE id = ANY(%s)", (alert_id, list(evidence_ids))
    )


def annotated(jpeg: bytes, boxes: Sequence[dict[str, Any]], quality: int = 90) -> bytes:
    """A copy with the boxes, labels and scores drawn (the stored file is never changed)."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise EvidenceMissing("not a decodable JPEG")
    labels = sorted({str(b.get("label", "")) for b in boxes})
    dets = [
        Detection(
            str(b.get("label", "")),
            float(b.get("score", 0.0)),
            tuple(float(v) for v in b["box"]),  # type: ignore[arg-type]
            labels.index(str(b.get("label", ""))),
        )
        for b in boxes
        if isinstance(b.get("box"), list | tuple) and len(b["box"]) == 4
    ]
    ok, buf = cv2.imencode(".jpg", annotate(image, dets), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise EvidenceMissing("could not encode the annotated copy")
    return buf.tobytes()
