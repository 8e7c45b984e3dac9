"""Review decisions as training data (kitchens.md: dismissals are labelled data): a
YOLO-format detector set, and beside it a classification set of crops.

Every evidence picture of a decided review becomes an image with a label file, its
labels decided by `labels` (confirmed: every object of the frame; dismissed: the frame's
objects less the disputed detection, or the reviewer's corrections; older records
without the frame's objects: as before, counted and flagged in `reviews.json`). Verdicts
of crop classifiers (a person judged `without_mask`) are not detector classes: they
become crops in `classify/<split>/<label>/<evidence>_<k>.jpg`, cut with the region the
classifier judged, labelled with the reviewer's verdict (the folder layout
`brightwatch vision train classifier --data <out>/classify` reads).
Frames of one alert stay in one split (no leakage between train and val); the split is a
stable hash of the alert id, so a re-export puts every picture where it was. Pictures
whose content no longer matches their recorded hash are left out, with a warning.

Caveat of the format: objects nobody labelled in a picture (classes left out of an
explicit class list, objects the detectors missed) count as background for the classes
exported.

May import: alerts, the standard library, psycopg, OpenCV, tqdm.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psycopg
from psycopg.rows import dict_row
from tqdm import tqdm

from brightwatch.alerts.review.labels import Labelling, Verdict, label_evidence

log = logging.getLogger(__name__)


class ExportError(RuntimeError):
    """The dataset cannot be written; the message says why."""


@dataclass
class ExportResult:
    out: Path
    names: list[str]
    images: dict[str, int] = field(default_factory=lambda: {"train": 0, "val": 0})
    boxes: int = 0
    context_boxes: int = 0  # of `boxes`, taken from the frames' other objects
    negatives: int = 0
    corrected: int = 0
    crops: dict[str, int] = field(default_factory=dict)  # classifier crops per label
    without_context: int = 0  # older records: labelled as before (no frame objects)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        crops = ", ".join(f"{n} {label}" for label, n in sorted(self.crops.items()))
        return (
            f"{self.images['train']} train + {self.images['val']} val images, {self.boxes} boxes"
            f" ({self.context_boxes} from the frames' other objects), {self.negatives} negatives,"
            f" {self.corrected} corrected by reviewers,"
            f" {sum(self.crops.values())} classifier crops{f' ({crops})' if crops else ''},"
            f" {self.without_context} records without the frame's objects (labelled as before),"
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
    labelling: Labelling
    corrected: bool


def split_of(alert_id: int, val_fraction: float) -> str:
    bucket = int(hashlib.sha256(f"alert:{alert_id}".encode()).hexdigest()[:8], 16) % 10_000
    return "val" if bucket < val_fraction * 10_000 else "train"


def load_items(
    conn: psycopg.Connection[Any],
    since: datetime | None,
    person_labels: Collection[str] = ("person",),
) -> list[Item]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT r.id AS review_id, r.alert_id, r.decision, r.code, r.corrected_boxes, e.id AS evidence_id,"
            " e.site_id, e.camera_id, e.path, e.sha256, e.width, e.height, e.model, e.boxes, e.context"
            " FROM review r JOIN evidence e ON e.alert_id = r.alert_id"
            " WHERE r.decision IS NOT NULL AND (%s::timestamptz IS NULL OR r.decided_at >= %s)"
            " ORDER BY r.id, e.captured_at, e.id",
            (since, since),
        ).fetchall()
    items = []
    for row in rows:
        corrections = (row["corrected_boxes"] or {}).get(str(row["evidence_id"]))
        corrected = row["decision"] != "confirm" and corrections is not None
        labelling = label_evidence(
            row["decision"],
            list(row["boxes"] or []),
            row["context"],
            corrections if corrected else None,
            person_labels,
        )
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
                labelling,
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


def folder_name(label: str) -> str:
    """A label as a folder name: path separators and other odd characters become `_`."""
    name = re.sub(r"[^\w.+-]+", "_", label).strip("._")
    return name or "_"


def cut_crop(
    image: np.ndarray, crop: Sequence[float], width: int, height: int
) -> np.ndarray | None:
    """The recorded crop region (pixels of a `width` x `height` frame) out of the decoded
    picture, rescaled when the picture was stored at another size; None if empty."""
    h, w = image.shape[:2]
    sx, sy = w / width, h / height
    x1, y1, x2, y2 = (float(v) for v in crop)
    left, right = sorted((int(round(x1 * sx)), int(round(x2 * sx))))
    top, bottom = sorted((int(round(y1 * sy)), int(round(y2 * sy))))
    left, top = max(0, left), max(0, top)
    right, bottom = min(w, right), min(h, bottom)
    if right - left < 2 or bottom - top < 2:
        return None
    return image[top:bottom, left:right]


def _write_crops(
    item: Item, data: bytes, split: str, stem: str, out: Path, result: ExportResult
) -> list[dict[str, Any]]:
    """The item's classifier verdicts as crops under `classify/`; what was written."""
    written: list[dict[str, Any]] = []
    image: np.ndarray | None = None
    for k, v in enumerate(item.labelling.verdicts):
        where = f"evidence {item.evidence_id}: verdict {v.said!r} of classifier {v.classifier!r}"
        if v.crop is None:
            result.skipped.append(f"{where} has no recorded crop region: no crop")
            continue
        if image is None:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                result.skipped.append(f"evidence {item.evidence_id}: not a decodable picture")
                return written
        crop = cut_crop(image, v.crop, item.width, item.height)
        if crop is None:
            result.skipped.append(f"{where}: its crop region is empty")
            continue
        target = out / "classify" / split / folder_name(v.label) / f"{stem}_{k}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            result.skipped.append(f"{where}: the crop cannot be encoded")
            continue
        target.write_bytes(buf.tobytes())
        result.crops[v.label] = result.crops.get(v.label, 0) + 1
        written.append(_verdict_entry(v, target.relative_to(out).as_posix()))
    return written


def _verdict_entry(v: Verdict, crop: str) -> dict[str, Any]:
    return {"crop": crop, "classifier": v.classifier, "said": v.said, "label": v.label}


def export_reviews(
    conn: psycopg.Connection[Any],
    data_dir: Path,
    out: Path,
    *,
    since: datetime | None = None,
    names: Sequence[str] | None = None,
    val_fraction: float = 0.2,
    person_labels: Collection[str] = ("person",),
    progress: bool = True,
) -> ExportResult:
    """Write the dataset into the new folder `out` (see the module's docstring).
    `names`: detector classes in id order (default: those the labels use);
    `person_labels`: detector classes that are persons (never disputed by a dismissal)."""
    if not 0 < val_fraction < 1:
        raise ExportError("the validation fraction must be between 0 and 1")
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} is not empty; choose a new folder")
    items = load_items(conn, since, person_labels)
    if len({i.alert_id for i in items}) < 2:
        raise ExportError(
            "fewer than two decided reviews with evidence: nothing to split into train and val"
        )
    if names is None:
        names = sorted({str(b["label"]) for i in items for b in i.labelling.boxes})
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
        lab = item.labelling
        lines = []
        from_context = 0
        missing: set[str] = set()
        for k, b in enumerate(lab.boxes):
            label = str(b.get("label", ""))
            if label not in class_ids:
                missing.add(label)
                continue
            line = yolo_line(class_ids[label], b["box"], item.width, item.height)
            if line:
                lines.append(line)
                from_context += k < lab.from_context
        result.skipped += [
            f"evidence {item.evidence_id}: class {label!r} is not in the class list"
            for label in sorted(missing)
        ]
        split = splits[item.alert_id]
        stem = f"{item.site_id}_{item.camera_id}_{item.evidence_id}"
        suffix = Path(item.path).suffix.lower() or ".jpg"
        shutil.copyfile(source, out / "images" / split / f"{stem}{suffix}")
        (out / "labels" / split / f"{stem}.txt").write_text("".join(f"{ln}\n" for ln in lines))
        crops = _write_crops(item, data, split, stem, out, result)
        result.images[split] += 1
        result.boxes += len(lines)
        result.context_boxes += from_context
        result.negatives += not lines
        result.corrected += item.corrected
        result.without_context += not lab.with_context
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
                "context": lab.with_context,  # False: an older record, labelled as before
                "context_boxes": from_context,
                "disputed": lab.disputed,
                "verdicts": crops,
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
