"""Recall of the public-picture face filter on the face boxes of ../shared/datasets/face_mask.

    python -m bench.face_recall [--limit N]

For every labelled face (with_mask, without_mask, mask_weared_incorrect: all are faces):
- detected: a detection of the filter's detector overlaps it with IoU >= 0.3;
- protected: >= 90 % of its box lies inside the regions the filter pixelated;
and how many labelled faces the acceptance test's checks (both BlazeFace networks at
MediaPipe's 0.5, over finer tiles than the filter uses) find before and after filtering.
Writes bench/out/face_recall.json; prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from brightwatch.vision.privacy import (
    BACK_MODEL,
    FRONT_MODEL,
    BlazeFace,
    default_filter,
    find_face_model,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "face_mask"


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def labels(image_path: Path, w: int, h: int) -> list[np.ndarray]:
    lab = DATA / "labels" / "train" / (image_path.stem + ".txt")
    boxes = []
    for line in lab.read_text().splitlines():
        if line.strip():
            _, cx, cy, bw, bh = map(float, line.split())
            boxes.append(
                np.array(
                    [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h]
                )
            )
    return boxes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="first N images only (0: all)")
    ap.add_argument("--threshold", type=float, default=None, help="detector score threshold")
    args = ap.parse_args()
    if not DATA.exists():
        raise SystemExit(f"needs {DATA}")
    filt = default_filter(max_width=10_000)  # measure at the source size
    detector = filt.detectors[0]
    if args.threshold is not None:
        detector.threshold = args.threshold
    # the acceptance test's checks: both networks, finer tiles than the filter's
    checks = {
        "front128@0.5/128px": BlazeFace(
            find_face_model(name=FRONT_MODEL), threshold=0.5, tile_side=128, confident=0.5
        ),
        "back256@0.5/144px": BlazeFace(
            find_face_model(name=BACK_MODEL), threshold=0.5, tile_side=144, confident=0.5
        ),
    }
    images = sorted((DATA / "images" / "train").glob("*.*"))
    if args.limit:
        images = images[: args.limit]
    faces = detected = protected = 0
    still_found = dict.fromkeys(checks, 0)
    found_before = dict.fromkeys(checks, 0)
    t0 = time.perf_counter()
    for path in tqdm(images, desc="face recall", unit="img"):
        img = cv2.imread(str(path))
        h, w = img.shape[:2]
        gt = labels(path, w, h)
        dets = [np.array(f.box) for d in filt.detectors for f in d.detect(img)]
        out = filt.apply(img)
        mask = np.zeros((h, w), bool)
        for x1, y1, x2, y2 in out.regions:
            mask[y1:y2, x1:x2] = True
        for g in gt:
            faces += 1
            if any(iou(g, d) >= 0.3 for d in dets):
                detected += 1
            x1, y1, x2, y2 = (int(round(v)) for v in g)
            area = max(1, (x2 - x1) * (y2 - y1))
            if mask[max(0, y1) : y2, max(0, x1) : x2].sum() >= 0.9 * area:
                protected += 1
        for name, check in checks.items():
            # labelled faces a check finds (IoU >= 0.2), before and after filtering
            for image, tally in ((img, found_before), (out.image, still_found)):
                found = [np.array(f.box) for f in check.detect(image)]
                tally[name] += sum(any(iou(g, f) >= 0.2 for f in found) for g in gt)
    elapsed = time.perf_counter() - t0
    result = {
        "images": len(images),
        "faces": faces,
        "detector": f"{BACK_MODEL} threshold {detector.threshold}, tiles {detector.tile_side}px"
        f" + {FRONT_MODEL} threshold 0.5",
        "recall_iou30": detected / faces,
        "protected_90pct_covered": protected / faces,
        "check_labelled_faces_found_before": found_before,
        "check_labelled_faces_found_after": still_found,
        "seconds_per_image": elapsed / len(images),
    }
    out_dir = Path(__file__).parent / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "face_recall.json").write_text(json.dumps(result, indent=2))
    print(
        f"face recall {result['recall_iou30']:.3f} (IoU>=0.3), protected {result['protected_90pct_covered']:.3f}"
        f" of {faces} faces in {len(images)} images; labelled faces the checks find after filtering:"
        f" {still_found} (before: {found_before}); {result['seconds_per_image'] * 1000:.0f} ms/image"
    )


if __name__ == "__main__":
    main()
