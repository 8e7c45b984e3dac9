"""Review decisions as a YOLO-format training set (kitchens.md: dismissals are labelled
data).

Every evidence picture of a decided review becomes an image with a label file:
- confirmed: the detector's boxes are the labels;
- dismissed: an empty label file (a negative: nothing of these classes is there), or the
  reviewer's corrected boxes when the review carries them.
Frames of one alert stay in one split (no leakage between train and val); the split is a
stable hash of the alert id, so a re-export puts every picture where it was. Pictures
whose content no longer matches their recorded hash are left out, with a warning.

Caveat of the format: objects nobody labelled in a picture (other classes) count as
background for the classes exported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from tqdm import tqdm

log = logging.getLogger(__name__)


class ExportError(RuntimeError):
    """The dataset cannot be written; the message says why."""


@dataclass
class ExportResult:
    out: Path
    names: list[str]
    images: dict[str, int] = field(default_factory=lambda: {"train": 0, "val": 0})
    boxes: int = 0
    negatives: int = 0
    corrected: int = 0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.images['train']} train + {self.images['val']} val images, {self.boxes} boxes,"
            f" {self.negatives} negatives, {self.corrected} corrected by reviewers,"
            f" {len(self.skipped)} skipped; classes: {', '.join(self.names) or '-'}"
        )


@dataclass(frozen=True)
class Item:
    review_id: int
    alert_id: int
    decision: str
    code: str
    evidence_id: int
    site_id: str
    camera_id: str
    path: str
    sha256: str
    width: int
    height: int
    model: str | None
    boxes: list[dict[str, Any]]
    corrected: bool


def split_of(alert_id: int, val_fraction: float) -> str:
    bucket = int(hashlib.sha256(f"alert:{alert_id}".encode()).hexdigest()[:8], 16) % 10_000
    return "val" if bucket < val_fraction * 10_000 else "train"


def load_items(conn: psycopg.Connection[Any], since: datetime | None) -> list[Item]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT r.id AS review_id, r.alert_id, r.decision, r.code, r.corrected_boxes, e.id AS evidence_id,"
            " e.site_id, e.camera_id, e.path, e.sha256, e.width, e.height, e.model, e.boxes"
            " FROM review r JOIN evidence e ON e.alert_id = r.alert_id"
            " WHERE r.decision IS NOT NULL AND (%s::timestamptz IS NULL OR r.decided_at >= %s)"
            " ORDER BY r.id, e.captured_at, e.id",
            (since, since),
        ).fetchall()
    items = []
    for row in rows:
        corrections = row["corrected_boxes"] or {}
        corrected = str(row["evidence_id"]) in corrections
        if row["decision"] == "confirm":
            boxes = list(row["boxes"] or [])
        elif corrected:
            boxes = list(corrections[str(row["evidence_id"])])
        else:
            boxes = []  # a false positive: nothing to find here
        items.append(
            Item(
                row["review_id"],
                row["alert_id"],
                row["decision"],
                row["code"],
                row["evidence_id"],
                row["site_id"],
                row["camera_id"],
                row["path"],
                row["sha256"],
                row["width"],
                row["height"],
                row["model"],
                boxes,
                corrected,
            )
        )
    return items


def yolo_line(class_id: int, box: Sequence[float], width: int, height: int) -> str | None:
    """`class cx cy w h`, normalised to 0..1 and clipped to the picture; None if empty."""
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, x2 = sorted((max(0.0, min(width, x1)), max(0.0, min(width, x2))))
    y1, y2 = sorted((max(0.0, min(height, y1)), max(0.0, min(height, y2))))
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
    w, h = (x2 - x1) / width, (y2 - y1) / height
    return f"{class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


def export_reviews(
    conn: psycopg.Connection[Any],
    data_dir: Path,
    out: Path,
    *,
    since: datetime | None = None,
    names: Sequence[str] | None = None,
    val_fraction: float = 0.2,
    progress: bool = True,
) -> ExportResult:
    if not 0 < val_fraction < 1:
        raise ExportError("the validation fraction must be between 0 and 1")
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} is not empty; choose a new folder")
    items = load_items(conn, since)
    if len({i.alert_id for i in items}) < 2:
        raise ExportError(
            "fewer than two decided reviews with evidence: nothing to split into train and val"
        )
    if names is None:
        names = sorted({str(b["label"]) for i in items for b in i.boxes})
    class_ids = {n: k for k, n in enumerate(names)}
    splits = {i.alert_id: split_of(i.alert_id, val_fraction) for i in items}
    if set(splits.values()) != {"train", "val"}:
        # tiny sets: make sure both splits hold something (the last alert goes to val)
        alerts = sorted(splits)
        for a in alerts:
            splits[a] = "train"
        splits[alerts[-1]] = "val"
    result = ExportResult(out, list(names))
    manifest = []
    for split in ("train", "val"):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    for item in tqdm(items, desc="export-reviews", unit="img", disable=not progress):
        source = data_dir / item.path
        try:
            data = source.read_bytes()
        except OSError as exc:
            result.skipped.append(f"evidence {item.evidence_id}: {exc.strerror or exc}")
            continue
        if hashlib.sha256(data).hexdigest() != item.sha256:
            log.warning("evidence %d does not match its recorded hash: left out", item.evidence_id)
            result.skipped.append(f"evidence {item.evidence_id}: content does not match its hash")
            continue
        lines = []
        for b in item.boxes:
            label = str(b.get("label", ""))
            if label not in class_ids:
                result.skipped.append(
                    f"evidence {item.evidence_id}: class {label!r} is not in the class list"
                )
                continue
            line = yolo_line(class_ids[label], b["box"], item.width, item.height)
            if line:
                lines.append(line)
        split = splits[item.alert_id]
        stem = f"{item.site_id}_{item.camera_id}_{item.evidence_id}"
        suffix = Path(item.path).suffix.lower() or ".jpg"
        shutil.copyfile(source, out / "images" / split / f"{stem}{suffix}")
        (out / "labels" / split / f"{stem}.txt").write_text("".join(f"{ln}\n" for ln in lines))
        result.images[split] += 1
        result.boxes += len(lines)
        result.negatives += not lines
        result.corrected += item.corrected
        manifest.append(
            {
                "image": f"images/{split}/{stem}{suffix}",
                "review_id": item.review_id,
                "alert_id": item.alert_id,
                "evidence_id": item.evidence_id,
                "decision": item.decision,
                "code": item.code,
                "corrected": item.corrected,
                "model": item.model,
                "sha256": item.sha256,
                "boxes": len(lines),
            }
        )
    if not result.images["train"] or not result.images["val"]:
        raise ExportError(
            "after leaving out unreadable evidence, train or val is empty: "
            + "; ".join(result.skipped)
        )
    listed = "".join(f"\n  {k}: {json.dumps(n, ensure_ascii=False)}" for k, n in enumerate(names))
    (out / "data.yaml").write_text(
        "# YOLO dataset exported from review decisions by `brightwatch vision export-reviews`\n"
        f"path: {json.dumps(str(out.resolve()))}\ntrain: images/train\nval: images/val\n"
        f"nc: {len(names)}\nnames:{listed or ' {}'}\n",
        encoding="utf-8",
    )
    (out / "reviews.json").write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return result
