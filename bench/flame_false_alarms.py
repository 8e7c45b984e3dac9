"""The flame detector (`fire`) on normal cooking, on its reserved test video, and its cost
per frame on this CPU (issue 12, item 6).

    python -m bench.flame_false_alarms [--model fire] [--out bench/out/flame_false_alarms.json]

- the 13 kitchen photos of ../shared/media/kitchen (never trained on; some show lit hobs):
  per photo, the `fire` boxes at or above the FIRE_UNATTENDED class minimum score (0.4,
  `vision.settings.default_classes`, fixed before measuring) and the best `fire` score;
- home_kitchen_short.mp4 (normal home cooking), every frame: frames with such a box;
- the reserved fire_smoke source video (`flame_split.RESERVED_VIDEO`, never trained on):
  frames with such a box, out of its frames, and the best `fire` score of each frame;
- ms per frame of the detector alone (1280 x 720 picture, its default runtime with 1 and 2
  threads, median of 30 runs after 5 warm-up runs) beside the default person detector's
  (built-in `coco`, the one the vision worker runs beside it), and the cameras at 1 fps
  that 2 cores could carry at that cost.

Writes the JSON record to --out and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from brightwatch.vision.detector import load_detector
from brightwatch.vision.settings import VisionSettings
from brightwatch.vision.training.flame_split import part_of

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
KITCHEN = SHARED / "media" / "kitchen"
VIDEO = SHARED / "media" / "video" / "home_kitchen_short.mp4"
FIRE_SET = SHARED / "datasets" / "fire_smoke" / "images" / "train"


def min_score() -> float:
    rule = VisionSettings().classes["*"]["fire"]
    assert rule.code == "FIRE_UNATTENDED" and rule.min_score is not None
    return rule.min_score


def fire_boxes(detector: Any, image: np.ndarray, threshold: float) -> tuple[int, float]:
    found = [d for d in detector.detect(image, conf=0.05) if d.label == "fire"]
    best = max((d.score for d in found), default=0.0)
    return sum(d.score >= threshold for d in found), best


def per_frame_ms(detector: Any, runs: int = 30) -> float:
    image = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    for _ in range(5):
        detector.detect(image)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        detector.detect(image)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fire")
    parser.add_argument("--out", type=Path, default=Path("bench/out/flame_false_alarms.json"))
    args = parser.parse_args()
    threshold = min_score()
    detector = load_detector(args.model, threads=1)
    record: dict[str, Any] = {
        "model": f"{detector.name}@{detector.version}",
        "min_score": threshold,
    }

    photos = {}
    for path in sorted(KITCHEN.iterdir()):
        image = cv2.imread(str(path))
        if image is not None:
            n, best = fire_boxes(detector, image, threshold)
            photos[path.name] = {"boxes": n, "best_score": round(best, 3)}
    record["kitchen_photos"] = photos

    capture = cv2.VideoCapture(str(VIDEO))
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    frames = flagged = 0
    best_video = 0.0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        n, best = fire_boxes(detector, frame, threshold)
        frames += 1
        flagged += n > 0
        best_video = max(best_video, best)
    capture.release()
    record["home_kitchen_video"] = {
        "frames": frames,
        "seconds": round(frames / fps, 1) if fps else None,
        "frames_with_fire": flagged,
        "best_score": round(best_video, 3),
    }

    reserved = sorted(
        (p for p in FIRE_SET.iterdir() if part_of(p.name) == "reserved"),
        key=lambda p: int(re.search(r"_mp4-(\d+)", p.name)[1]),  # type: ignore[index]
    )
    scored = []
    for path in reserved:
        picture = cv2.imread(str(path))
        if picture is None:
            raise SystemExit(f"{path}: not a readable picture")
        scored.append(fire_boxes(detector, picture, threshold))
    best_scores = [round(best, 3) for _, best in scored]
    record["reserved_video"] = {
        "frames": len(reserved),
        "frames_with_fire": sum(n > 0 for n, _ in scored),
        "median_best_score": round(statistics.median(best_scores), 3) if scored else None,
        "best_scores": best_scores,
    }

    cost: dict[str, Any] = {}
    for name, spec in (("fire", args.model), ("coco", "coco")):
        for threads in (1, 2):
            timed = load_detector(spec, threads=threads)
            cost[f"{name}_model"] = f"{timed.name}@{timed.version}"
            cost[f"{name}_{threads}t_ms"] = round(per_frame_ms(timed), 1)
    # 2 cores, one single-threaded session per core, at 1 fps per camera
    cost["cameras_fire_alone"] = int(2 * 1000 / cost["fire_1t_ms"])
    cost["cameras_coco_alone"] = int(2 * 1000 / cost["coco_1t_ms"])
    cost["cameras_coco_plus_fire"] = int(2 * 1000 / (cost["coco_1t_ms"] + cost["fire_1t_ms"]))
    record["cost"] = cost

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"| kitchen photo | fire boxes >= {threshold} | best fire score |")
    print("|---|---|---|")
    for name, row in photos.items():
        print(f"| {name} | {row['boxes']} | {row['best_score']} |")
    print(json.dumps({k: v for k, v in record.items() if k != "kitchen_photos"}, indent=2))


if __name__ == "__main__":
    main()
