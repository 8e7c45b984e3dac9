"""The default detector at the frame's own aspect (`rect`) against the square input: CPU
per frame and the persons both find, on the same frames in the same run.

    python -m bench.detector_shapes [--rounds 5] [--no-results]

Frames: the 13 kitchen photos of ../shared/media/kitchen filled to each camera shape
(1920 x 1080 and 1280 x 720: 16:9, 704 x 576: D1), decoded beforehand. One detector each
way (`load_detector("coco")`, then the same with `rect=True`), one thread, one stream, as
a single caller runs it; the two alternate round by round and the median round counts.
CPU = `time.process_time` over the round. Agreement: persons of the square run scoring
>= 0.5 found by the frame-shaped run (same label, IoU >= 0.5, any score >= 0.25), and the
other way round. Recall on an independent set: heads of ../shared/datasets/helmet_workwear
`val` inside a person box, each way. Figures go to bench/out/detector_shapes.json and the section
`detector-shapes` of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import write_section
from bench.vision_pipeline import OUT, SHARED, fill
from brightwatch.vision.detector import Detection, load_detector
from brightwatch.vision.detector.openvino_backend import OpenVinoDetector
from brightwatch.vision.rules.zones import iou

SHAPES = ((1920, 1080), (1280, 720), (704, 576))


def pictures(width: int, height: int) -> list[np.ndarray]:
    import cv2

    files = sorted((SHARED / "media" / "kitchen").glob("*"))
    images = [cv2.imread(str(f), cv2.IMREAD_COLOR) for f in files]
    return [fill(img, width, height) for img in images if img is not None]


def run(detector: Any, frames: list[np.ndarray]) -> tuple[float, list[list[Detection]]]:
    """CPU ms per frame of one pass, and what it found."""
    start = time.process_time()
    found = [detector.detect(f) for f in frames]
    return (time.process_time() - start) * 1000 / len(frames), found


def agreement(theirs: list[list[Detection]], ours: list[list[Detection]]) -> float:
    """Share of `theirs`' confident persons that `ours` also finds."""
    wanted = found = 0
    for a, b in zip(theirs, ours, strict=True):
        for d in a:
            if d.label == "person" and d.score >= 0.5:
                wanted += 1
                found += any(e.label == "person" and iou(e.box, d.box) >= 0.5 for e in b)
    return found / wanted if wanted else float("nan")


def heads_found(detector: Any, folder: Path) -> tuple[int, int, int]:
    """On a YOLO set with head boxes (helmet_workwear: classes 0 `helmet`, 1 `no_helmet`):
    heads whose centre lies in the upper half of a person box, all heads, person boxes."""
    import cv2

    found = heads = boxes = 0
    for picture in sorted((folder / "images" / "val").glob("*")):
        image = cv2.imread(str(picture), cv2.IMREAD_COLOR)
        labels = folder / "labels" / "val" / f"{picture.stem}.txt"
        if image is None or not labels.is_file():
            continue
        h, w = image.shape[:2]
        centres = [
            (float(cx) * w, float(cy) * h)
            for c, cx, cy, *_ in (line.split() for line in labels.read_text().splitlines())
            if int(c) in (0, 1)
        ]
        persons = [d.box for d in detector.detect(image) if d.label == "person"]
        boxes += len(persons)
        heads += len(centres)
        found += sum(
            any(b[0] <= x <= b[2] and b[1] <= y <= (b[1] + b[3]) / 2 for b in persons)
            for x, y in centres
        )
    return found, heads, boxes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detector_shapes", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-results", action="store_true", help="leave RESULTS.md alone")
    args = parser.parse_args(argv)
    if not (SHARED / "media" / "kitchen").is_dir():
        print("needs ../shared/media/kitchen and ../shared/models/coco")
        return 2
    square = load_detector("coco", threads=1)
    shaped = load_detector("coco", threads=1, rect=True)
    if not isinstance(shaped, OpenVinoDetector) or not shaped.rect:
        print(f"`coco` does not run frame-shaped here ({shaped!r}): needs the openvino package")
        return 2
    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = []
    for width, height in SHAPES:
        frames = pictures(width, height)
        size = shaped.input_for(height, width)
        for det in (square, shaped):  # first requests made, not counted
            run(det, frames[:2])
        times: dict[str, list[float]] = {"square": [], "rect": []}
        found: dict[str, list[list[Detection]]] = {}
        for k in range(args.rounds):
            for name, det in (("square", square), ("rect", shaped))[:: 1 if k % 2 else -1]:
                ms, found[name] = run(det, frames)
                times[name].append(ms)
        sq, rc = statistics.median(times["square"]), statistics.median(times["rect"])
        row = {
            "frame": f"{width} x {height}",
            "input_rect": f"{size[1]} x {size[0]}",
            "square_ms": sq,
            "rect_ms": rc,
            "ratio": sq / rc,
            "square_persons_found_by_rect": agreement(found["square"], found["rect"]),
            "rect_persons_found_by_square": agreement(found["rect"], found["square"]),
            "frames": len(frames),
        }
        rows.append(row)
        print(
            f"{row['frame']}: square 640 x 640 {sq:.1f} ms, frame-shaped {row['input_rect']}"
            f" {rc:.1f} ms ({sq / rc:.2f}x); confident persons found by the other:"
            f" {row['square_persons_found_by_rect']:.3f} / {row['rect_persons_found_by_square']:.3f}",
            flush=True,
        )
    workers = SHARED / "datasets" / "helmet_workwear"
    recall = {
        name: heads_found(det, workers) for name, det in (("square", square), ("rect", shaped))
    }
    for name, (hit, heads, boxes) in recall.items():
        print(f"helmet_workwear val, {name}: {hit} of {heads} heads in a person box, {boxes} boxes")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "detector_shapes.json").write_text(
        json.dumps({"shapes": rows, "heads": recall}, indent=1)
    )
    if not args.no_results:
        write_section("detector-shapes", block(rows, recall, args.rounds, load_before))
    return 0


def block(
    rows: list[dict[str, Any]],
    recall: dict[str, tuple[int, int, int]],
    rounds: int,
    load_before: str,
) -> str:
    lines = "\n".join(
        f"| {r['frame']} | {r['input_rect']} | {r['square_ms']:.1f} | {r['rect_ms']:.1f} |"
        f" {r['ratio']:.2f} x | {r['square_persons_found_by_rect']:.3f} |"
        f" {r['rect_persons_found_by_square']:.3f} |"
        for r in rows
    )
    heads = "\n".join(
        f"| {name} | {found} | {total} | {found / total:.3f} | {boxes} |"
        for name, (found, total, boxes) in recall.items()
        if total
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!-- detector-shapes:begin -->
## Default detector at the frame's own aspect (`rect`): `python -m bench.detector_shapes`

Run {when}, {os.cpu_count()} cores, {platform.machine()}, load average before
{load_before}. `coco` (yolo11n int8 IR, OpenVINO) on the 13 kitchen photos filled to each
shape, one thread, median of {rounds} alternating rounds, CPU ms per frame. Agreement:
confident persons (>= 0.5) of one input found by the other (IoU >= 0.5).

| frame | frame-shaped input | square 640 x 640 ms | frame-shaped ms | speed-up | square's persons found | frame-shaped's persons found |
|---|---|---|---|---|---|---|
{lines}

Persons found on an independent set, the `val` pictures of
../shared/datasets/helmet_workwear (construction workers; most not square): a head box
(`helmet`, `no_helmet`) counts as found when its centre lies in the upper half of a person
box (score >= 0.25).

| input | heads found | of | share | person boxes |
|---|---|---|---|---|
{heads}
<!-- detector-shapes:end -->"""


if __name__ == "__main__":
    raise SystemExit(main())
