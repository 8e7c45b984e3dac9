"""Detector throughput: our ONNX Runtime backend against ultralytics' own PyTorch
`predict` of the same network, same frames, same run (quality.md: >= 2.5x).

    python -m bench.vision [--frames 240] [--rounds 3] [--threads 2]

The PyTorch network is yolo11n with the COCO weights of ../shared/models/coco (rebuilt
from the int8 export by `vision.training.transfer`, since no `.pt` exists here); our side
runs the fp32 ONNX export of that very `.pt`, its static int8 quantisation
(`vision.training.quantize`), and the shared dynamic-int8 export.
Both sides do their own letterbox, inference and NMS per frame, with the same thread
count. Systems alternate round by round and the median round counts, which keeps the
noise of a shared machine out of the ratio. Prints one summary line; figures go to
bench/out/vision.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from brightwatch.vision.detector import Detector

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OUT = REPO / "bench" / "out"

log = logging.getLogger("bench.vision")


def bench_frames(count: int) -> list[np.ndarray]:
    """The kitchen photos, bus and zidane, then frames of the shared videos, to `count`."""
    media = SHARED / "media"
    frames = []
    for path in sorted((media / "kitchen").iterdir()) + [media / "bus.jpg", media / "zidane.jpg"]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            frames.append(image)
    videos = sorted((media / "video").glob("*.mp4"))
    captures = [cv2.VideoCapture(str(v)) for v in videos]
    while len(frames) < count and captures:
        for capture in list(captures):
            ok, frame = capture.read()
            if not ok:
                captures.remove(capture)
                continue
            frames.append(frame)
            if len(frames) >= count:
                break
    if len(frames) < count:
        raise SystemExit(f"only {len(frames)} frames in {media}; need {count}")
    return frames[:count]


def timed(
    run: Callable[[np.ndarray], int], frames: Sequence[np.ndarray]
) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, objects found). CPU time is what a
    frame costs on a node shared with other work; wall time is what a user waits."""
    found = 0
    started, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        found += run(frame)
    return time.perf_counter() - started, time.process_time() - cpu, found


def counter(detector: Detector) -> Callable[[np.ndarray], int]:
    return lambda frame: len(detector.detect(frame))


def prepare_models(imgsz: int) -> dict[str, Path]:
    from brightwatch.vision.training.detector import export_onnx
    from brightwatch.vision.training.quantize import quantize_static_int8
    from brightwatch.vision.training.transfer import checkpoint_from_onnx

    models = OUT / "models"
    int8 = SHARED / "models" / "coco" / "yolo11n_int8_320.onnx"
    pt = models / "yolo11n_coco.pt"
    fp32 = models / "yolo11n_coco_fp32.onnx"
    static = models / "yolo11n_coco_int8_static.onnx"
    media = SHARED / "media"
    calibration = sorted((media / "kitchen").iterdir()) + [media / "bus.jpg", media / "zidane.jpg"]
    if not pt.exists():
        checkpoint_from_onnx(int8, "yolo11n.yaml", pt, calibration, imgsz=imgsz)
    if not fp32.exists():
        export_onnx(pt, fp32, imgsz=imgsz)
    if not static.exists():
        rat = SHARED / "datasets" / "rat" / "images" / "train"
        extra = sorted(rat.iterdir())[:40] if rat.exists() else []
        quantize_static_int8(fp32, static, calibration + extra)
    return {"pt": pt, "fp32": fp32, "int8_dynamic": int8, "int8_static": static}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--out", type=Path, default=OUT / "vision.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not (SHARED / "models" / "coco").exists():
        print("bench.vision: needs ../shared/models/coco and ../shared/media (absent)")
        return 2
    os.environ.setdefault("BW_DATA_DIR", str(OUT / "data"))

    import torch

    from brightwatch.vision.detector import load_detector
    from brightwatch.vision.ultralytics_env import import_ultralytics

    torch.set_num_threads(args.threads)
    ul = import_ultralytics("the benchmark")
    paths = prepare_models(args.imgsz)
    frames = bench_frames(args.frames)
    torch_model = ul.YOLO(str(paths["pt"]))

    def ultralytics_predict(frame: np.ndarray) -> int:
        result = torch_model.predict(
            frame, imgsz=args.imgsz, conf=0.25, iou=0.45, device="cpu", verbose=False
        )[0]
        return len(result.boxes)

    ours = {
        name: load_detector(str(paths[name]), threads=args.threads, conf=0.25, iou=0.45)
        for name in ("fp32", "int8_dynamic", "int8_static")
    }
    systems: dict[str, Callable[[np.ndarray], int]] = {
        "ultralytics_pytorch_fp32": ultralytics_predict,
        **{f"onnx_{name}": counter(detector) for name, detector in ours.items()},
    }
    for run in systems.values():  # warm-up: first calls allocate and compile
        timed(run, frames[:5])
    wall: dict[str, list[float]] = {name: [] for name in systems}
    cpu: dict[str, list[float]] = {name: [] for name in systems}
    found: dict[str, int] = {}
    for round_no in range(args.rounds):
        for name, run in systems.items():
            took, used, found[name] = timed(run, frames)
            wall[name].append(took)
            cpu[name].append(used)
            log.info(
                "round %d %-26s %6.1f fps, %6.1f CPU ms/frame",
                round_no + 1,
                name,
                len(frames) / took,
                1000 * used / len(frames),
            )
    fps = {name: len(frames) / statistics.median(s) for name, s in wall.items()}
    cpu_ms = {name: 1000 * statistics.median(s) / len(frames) for name, s in cpu.items()}
    base = "ultralytics_pytorch_fp32"
    candidates = [n for n in systems if n != base]
    best = max(candidates, key=lambda n: fps[n])
    result = {
        "bench": "vision.detector",
        "frames": len(frames),
        "rounds": args.rounds,
        "threads": args.threads,
        "imgsz": args.imgsz,
        "network": "yolo11n, COCO-80 weights of ../shared/models/coco/yolo11n_int8_320.onnx",
        "fps": {k: round(v, 2) for k, v in fps.items()},
        "cpu_ms_per_frame": {k: round(v, 2) for k, v in cpu_ms.items()},
        "wall_seconds_per_round": {k: [round(x, 3) for x in v] for k, v in wall.items()},
        "objects_found": found,
        "ratio_fps": {n: round(fps[n] / fps[base], 2) for n in candidates},
        "ratio_cpu": {n: round(cpu_ms[base] / cpu_ms[n], 2) for n in candidates},
        "chosen": best,
        "ratio": round(fps[best] / fps[base], 2),
        "target_ratio": 2.5,
        "load_average": os.getloadavg(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(
        f"bench.vision: {len(frames)} frames x {args.rounds} rounds, {args.threads} threads, "
        f"imgsz {args.imgsz}, load {os.getloadavg()[0]:.1f}: ultralytics PyTorch "
        f"{fps[base]:.1f} fps; "
        + ", ".join(
            f"{n} {fps[n]:.1f} fps ({result['ratio_fps'][n]}x, CPU {result['ratio_cpu'][n]}x)"
            for n in candidates
        )
        + f"; best {best} {result['ratio']}x (target >= 2.5x) -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
