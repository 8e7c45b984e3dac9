"""What full resolution costs, and what it finds: the detector input policies of
`vision.tiles` on full-HD kitchen frames.

    python -m bench.input_policy [--repeat 3] [--threads 1] [--no-recall]

Frames: the 13 photos of ../shared/media/kitchen, each scaled to fill 1920 x 1080 (what
a 1080p kitchen camera sends), plus the same at 1280 x 720. For each model and policy
(the default `coco`: yolo11n int8 at 640 under OpenVINO; the previous default, the
320 px int8 ONNX export under ONNX Runtime; `full`: the whole frame shrunk to the
model's input; `tiles`: square tiles of the frame's height plus the whole frame;
`auto`: tiles only for frames taller than 2.25 model inputs) it measures CPU milliseconds per frame of the person detector alone and of
the whole per-frame pipeline (detector, faces, mask classifier: `vision.frame_assess`),
one frame at a time on `--threads` threads, in this one run. Then, unless `--no-recall`,
person recall at IoU 0.5 on the labelled kitchen dev set (`models/devset`, the frames
of its `dev` split and their CCTV-like variants; labels made by eye, see its README).

Cameras per node at 1 fps are 2 cores x 1000 ms / (pipeline ms per frame): an upper
bound, without decoding, the rules or the database (`python -m bench.vision_pipeline`
measures the whole worker). The price of each policy for 1, 10 and 40 cameras at 1 fps
is the cores its pipeline needs (cameras x pipeline ms / 1000) against the node's 2. Written: bench/out/input_policy.json and the section
`## Full resolution: input policy` of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.results import write_section
from brightwatch.vision.frame_assess import FrameAssessor
from brightwatch.vision.settings import VisionSettings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
KITCHEN = SHARED / "media" / "kitchen"
PREVIOUS = SHARED / "models" / "coco" / "yolo11n_int8_320.onnx"  # the default until issue 13
CAMERAS = (1, 10, 40)
NODE_CORES = 2
OUT = ROOT / "bench" / "out"


def fill(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """The picture scaled to cover width x height, centre-cropped (no letterbox bars)."""
    h, w = image.shape[:2]
    k = max(width / w, height / h)
    big = cv2.resize(image, (round(w * k), round(h * k)), interpolation=cv2.INTER_LINEAR)
    y0, x0 = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return big[y0 : y0 + height, x0 : x0 + width]


def frames(width: int, height: int) -> list[np.ndarray]:
    files = sorted(p for p in KITCHEN.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    return [fill(cv2.imread(str(p)), width, height) for p in files]


def cpu_ms(work: Any, images: list[np.ndarray], repeat: int) -> float:
    work(images[0])  # warm-up: sessions, allocations
    started = time.process_time()
    for _ in range(repeat):
        for image in images:
            work(image)
    return (time.process_time() - started) * 1000 / (repeat * len(images))


def assessor(model: str, policy: str, data_dir: Path, threads: int = 1) -> FrameAssessor:
    settings = VisionSettings.model_validate({"input": policy, "threads": threads})
    if model == str(PREVIOUS):  # as it ran: ONNX Runtime
        settings = VisionSettings.model_validate(
            {
                "input": policy,
                "threads": threads,
                "models": {"previous": {"path": model, "backend": "onnx"}},
            }
        )
        return FrameAssessor.from_settings(settings, "previous", data_dir)
    return FrameAssessor.from_settings(settings, model, data_dir)


def label(model: str) -> str:
    return "previous (int8 320, ONNX Runtime)" if model == str(PREVIOUS) else Path(model).name


Box = tuple[float, float, float, float]


def person_recall(found: list[list[Box]], truth: list[list[Box]]) -> float:
    """Share of labelled persons matched (IoU >= 0.5, each found box used once)."""
    from brightwatch.vision.rules.zones import iou

    hits = total = 0
    for boxes, labelled in zip(found, truth, strict=True):
        free = list(boxes)
        for t in labelled:
            total += 1
            scored = sorted(free, key=lambda b, t=t: -iou(b, t))
            if scored and iou(scored[0], t) >= 0.5:
                hits += 1
                free.remove(scored[0])
    return hits / total if total else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-recall", action="store_true")
    args = parser.parse_args()
    if not KITCHEN.is_dir():
        raise SystemExit(f"needs {KITCHEN} (../shared beside the checkout)")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    data_dir = Path(os.environ.get("BW_DATA_DIR", Path.home() / ".local/share/brightwatch"))
    setups = [
        ("coco", "full"),
        ("coco", "tiles"),
        ("coco", "auto"),
        (str(PREVIOUS), "full"),
        (str(PREVIOUS), "tiles"),
    ]
    rows: list[dict[str, Any]] = []
    for width, height in ((1920, 1080), (1280, 720)):
        images = frames(width, height)
        for model, policy in setups:
            a = assessor(model, policy, data_dir, args.threads)
            det_ms = cpu_ms(
                lambda im, a=a, p=policy: a.inference.run([im], [p]), images, args.repeat
            )
            all_ms = cpu_ms(lambda im, a=a: a.assess(im, "bench"), images, args.repeat)
            rows.append(
                {
                    "frame": f"{width}x{height}",
                    "model": label(model),
                    "detector": repr(a.inference.detectors[0]),
                    "policy": policy,
                    "detector_ms": round(det_ms, 1),
                    "pipeline_ms": round(all_ms, 1),
                    "cameras_per_node_1fps": int(NODE_CORES * 1000 // all_ms),
                    "cores_at_1fps": {n: round(n * all_ms / 1000, 2) for n in CAMERAS},
                }
            )
            print(json.dumps(rows[-1]))
    recall: dict[str, Any] = {}
    if not args.no_recall:
        recall = devset_recall(setups, data_dir)
        print(json.dumps(recall))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "input_policy.json").write_text(json.dumps({"rows": rows, "recall": recall}, indent=2))
    write_section("input_policy", report(rows, recall, args))


def devset_recall(setups: list[tuple[str, str]], data_dir: Path) -> dict[str, Any]:
    """Person recall per policy on the dev split of the labelled dev set: every person
    not marked `ignore`, and the kitchen staff among them."""
    import tempfile

    from brightwatch.vision.evaluation import devset

    def box(b: list[float]) -> Box:
        return (b[0], b[1], b[2], b[3])

    with tempfile.TemporaryDirectory() as tmp:
        dev = [f for f in devset.build(SHARED, Path(tmp)) if f.split == "dev"]
        people = [[box(p.box) for p in f.persons if not p.ignore] for f in dev]
        staff = [[box(p.box) for p in f.persons if not p.ignore and p.staff] for f in dev]
        out: dict[str, Any] = {
            "frames": len(dev),
            "persons": sum(map(len, people)),
            "staff": sum(map(len, staff)),
            "recall": {},
        }
        for model, policy in setups:
            a = assessor(model, policy, data_dir)
            found = []
            for f in dev:
                image = cv2.imread(str(f.image))
                objs = a.inference.run([image], [policy])[0]
                found.append([o.box for o in objs if o.label == "person" and o.score >= 0.25])
            out["recall"][f"{label(model)}/{policy}"] = {
                "persons": round(person_recall(found, people), 3),
                "staff": round(person_recall(found, staff), 3),
            }
    return out


def report(rows: list[dict[str, Any]], recall: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        "<!-- input_policy:begin -->",
        "## Full resolution: input policy",
        "",
        f"`python -m bench.input_policy --repeat {args.repeat} --threads {args.threads}`"
        f" ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; CPU ms per frame, one frame"
        " at a time, on the 13 kitchen photos scaled to fill each frame size; `coco` is"
        " the default: yolo11n int8 at 640 under OpenVINO; the machine is shared with other"
        " agents' work, CPU times are the robust figure).",
        "",
        "| frame | model | policy | detector ms | pipeline ms (faces, mask) | cameras at 1 fps on 2 cores (upper bound) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['frame']} | {r['model']} | {r['policy']} | {r['detector_ms']} |"
            f" {r['pipeline_ms']} | {r['cameras_per_node_1fps']} |"
        )
    lines += [
        "",
        f"Price at 1 fps per camera: cores the pipeline needs for 1, 10 and 40 cameras"
        f" (cameras x pipeline ms / 1000; the node has {NODE_CORES}; decoding, rules and"
        " database not included):",
        "",
        "| frame | model | policy | 1 camera | 10 cameras | 40 cameras | fits 40 on the node |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cores = r["cores_at_1fps"]
        lines.append(
            f"| {r['frame']} | {r['model']} | {r['policy']} | {cores[1]} | {cores[10]} |"
            f" {cores[40]} | {'yes' if cores[40] <= NODE_CORES else 'no'} |"
        )
    if recall:
        lines += [
            "",
            "Person recall at IoU 0.5 (score >= 0.25) on the dev split of the kitchen dev set"
            f" ({recall['frames']} frames: base frames and their CCTV-like variants;"
            f" {recall['persons']} labelled persons, {recall['staff']} of them staff;"
            " `models/devset`):",
            "",
            "| model / policy | persons | staff |",
            "|---|---|---|",
        ]
        lines += [f"| {k} | {v['persons']} | {v['staff']} |" for k, v in recall["recall"].items()]
    lines.append("<!-- input_policy:end -->")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
