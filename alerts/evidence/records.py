"""The `evidence` table (kitchens.md, Evidence): the JPEG frames that confirmed a
violation, stored under BW_DATA_DIR with their SHA-256, boxes, scores, track ids, model,
zone and rule; read back for serving with the hash checked.

Files are content-addressed (`evidence/<site>/<camera>/<day>/<ts>-<code>-<sha12>.jpg`)
and written atomically before the row: a rolled-back transaction leaves at most a file
without a row, which the retention sweep removes; a redelivered batch writes the same file.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from brightwatch.alerts.evidence import files
from brightwatch.alerts.evidence.annotation import annotated

RECORD_FIELDS = (
    "e.id, e.site_id, e.camera_id, e.alert_id, e.captured_at, e.path, e.sha256, e.size_bytes,"
    " e.width, e.height, e.code, e.boxes, e.model, e.zone, e.rule, e.retained_until"
)
# what a review shows of each picture
REVIEW_FIELDS = (
    "id, alert_id, camera_id, captured_at, width, height, code, boxes, model, zone, rule, sha256"
)


@dataclass(frozen=True)
class SiteView:
    """What one site's people see: its own evidence, none of a case in `hidden_states`
    (a site of None sees nothing)."""

    site_id: str | None
    hidden_states: Collection[str]


@dataclass(frozen=True)
class Stored:
    id: int
    path: str
    sha256: str


def evidence_url(evidence_id: int) -> str:
    # served by the API's evidence route (hash checked on read)
    return f"/api/v1/evidence/{evidence_id}.jpg"


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
    context: Sequence[dict[str, Any]] | None = None,
) -> Stored:
    """`context`: every object the detectors saw in the frame (None: not recorded)."""
    digest = files.sha256(jpeg)
    rel = relative_path(site_id, camera_id, ts_ms, code, digest)
    target = data_dir / rel
    if not (target.exists() and target.stat().st_size == len(jpeg)):
        files.write_atomic(target, jpeg)
    row = conn.execute(
        "INSERT INTO evidence (site_id, camera_id, alert_id, captured_at, path, sha256, size_bytes,"
        " width, height, code, boxes, model, zone, rule, retained_until, context)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
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
            None if context is None else Jsonb(list(context)),
        ),
    ).fetchone()
    assert row is not None
    return Stored(int(row[0]), rel, digest)


def link(conn: psycopg.Connection[Any], evidence_ids: Sequence[int], alert_id: int) -> None:
    conn.execute(
        "UPDATE evidence SET alert_id = %s WHERE id = ANY(%s)", (alert_id, list(evidence_ids))
    )


def keep_until(conn: psycopg.Connection[Any], alert_id: int, until: datetime | None) -> None:
    """Set how long an alert's evidence is kept (the review desk: NULL while its case is
    open, closed + 1 year once closed)."""
    conn.execute("UPDATE evidence SET retained_until = %s WHERE alert_id = %s", (until, alert_id))


def ids_of(conn: psycopg.Connection[Any], alert_id: int) -> set[int]:
    """The ids of an alert's evidence."""
    rows = conn.execute("SELECT id FROM evidence WHERE alert_id = %s", (alert_id,)).fetchall()
    return {int(r[0]) for r in rows}


def of_alerts(
    conn: psycopg.Connection[Any], alert_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """Each alert's evidence as a review shows it (oldest first, with its URL)."""
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in alert_ids}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {REVIEW_FIELDS} FROM evidence WHERE alert_id = ANY(%s) ORDER BY captured_at, id",  # noqa: S608
            (list(alert_ids),),
        ).fetchall()
    for row in rows:
        row["url"] = evidence_url(row["id"])
        found[row.pop("alert_id")].append(row)
    return found


def _select(
    conn: psycopg.Connection[Any], evidence_id: int, view: SiteView | None
) -> dict[str, Any] | None:
    where = "e.id = %s"
    params: list[Any] = [evidence_id]
    if view is not None:
        where += (
            " AND e.site_id = %s AND NOT EXISTS (SELECT 1 FROM review r"
            " WHERE r.alert_id = e.alert_id AND r.state = ANY(%s))"
        )
        params += [view.site_id, list(view.hidden_states)]
    sql = f"SELECT {RECORD_FIELDS} FROM evidence e WHERE {where}"  # noqa: S608
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchone()


def _served(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("path")  # where it lies under the data folder is no one's business
    row["url"] = evidence_url(row["id"])
    return row


def find(
    conn: psycopg.Connection[Any],
    evidence_id: int,
    view: SiteView | None = None,
) -> dict[str, Any] | None:
    """The record (boxes, scores, model, zone, rule, hash, retention, URL), or None when
    there is none or the `view` (all when None) does not show it. The file is not read."""
    row = _select(conn, evidence_id, view)
    return None if row is None else _served(row)


def load(
    conn: psycopg.Connection[Any],
    data_dir: Path,
    evidence_id: int,
    view: SiteView | None = None,
    *,
    annotate: bool = False,
) -> tuple[dict[str, Any], bytes] | None:
    """The record (as `find`) and its JPEG, checked against the recorded hash (with the
    boxes drawn on a copy when `annotate`); None when `find` finds none. Raises
    `files.MissingFile` or `annotation.EvidenceMissing` when the picture is gone or
    unreadable, `files.TamperedFile` when it no longer matches its hash."""
    row = _select(conn, evidence_id, view)
    if row is None:
        return None
    data = files.read_checked(data_dir, row["path"], row["sha256"], f"evidence {evidence_id}")
    if annotate:
        data = annotated(data, row["boxes"] or [])
    return _served(row), data
