"""Training the project's flame detector (`brightwatch vision train flame`) from scratch on
the fire_smoke set (CC BY 4.0, custom-thxhn, Roboflow Universe), on the CPU, within a wall
time budget; exported to ONNX (int8 when the held-out AP50 holds) for the ONNX backend.

The split is by source video (`flame_split`); classes `fire` (the set's `Fire`, the one
FIRE_UNATTENDED uses) and `smoke` (a second head: smoke pictures teach what is not flame);
`default` is dropped. Pictures are letterboxed once to the input size and kept in memory;
each step draws a batch, zooms in or out at random (small, far flames like a CCTV view
of a hob), flips and jitters brightness/contrast, then trains the CenterNet losses
(penalty-reduced focal loss on a Gaussian heat-map, L1 on offset and log size).

Imports: torch, numpy, cv2, onnxruntime (held-out scoring through the service's own
`OnnxDetector`), `brightwatch.vision.{yoloset,detector,evaluation}`.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from brightwatch.vision.detector.preprocess import PAD_VALUE, letterbox
from brightwatch.vision.evaluation.metrics import Accumulator, Boxes
from brightwatch.vision.training import flame_split
from brightwatch.vision.yoloset import DatasetError, LabelledImage, open_set

log = logging.getLogger(__name__)

CLASSES = ("fire", "smoke")
SOURCE_CLASSES = {"Fire": "fire", "smoke": "smoke"}  # the set's names -> ours
DROPPED_CLASS = "default"  # whole-frame boxes: label noise (data.yaml)
ALARM_SCORE = 0.4  # default_classes(): fire -> FIRE_UNATTENDED at min_score 0.4
INT8_MAX_AP_LOSS = 0.02  # keep the int8 file when it loses at most this much AP50
ATTRIBUTION = "Cctv-fire by custom-thxhn, Roboflow Universe, CC BY 4.0"


@dataclass
class FlameTraining:
    data: Path
    output: Path  # .onnx; a .json record with the held-out figures beside it
    minutes: float = 30.0
    imgsz: int = 320
    crop: int = 256  # training window, cut from the imgsz picture
    batch: int = 16
    width: int = 16
    lr: float = 3e-3
    warmup_steps: int = 100
    max_steps: int | None = None  # stop earlier than `minutes` after this many steps
    seed: int = 0
    threads: int | None = None
    checkpoint: Path | None = None  # the trained weights (torch state dict), to re-export
    # start from these weights instead of random: a checkpoint (.pt), or an ONNX export
    # (.onnx, e.g. the shipped model; `flame_net.load_export`)
    resume: Path | None = None


@dataclass
class FlameResult:
    output: Path
    steps: int
    seconds: float
    held_out: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict)


@dataclass
class Cached:
    """Pictures letterboxed to the input size (uint8 BGR) and their boxes there."""

    images: np.ndarray  # N, S, S, 3
    boxes: list[np.ndarray]  # per picture (n, 4) x1 y1 x2 y2, input pixels
    classes: list[np.ndarray]  # per picture (n,)
    names: list[str]


def class_map(names: Sequence[str]) -> dict[int, int]:
    """The set's class ids -> ours; the set must have `Fire`."""
    if "Fire" not in names:
        raise DatasetError(f"the set's classes {list(names)} have no `Fire`")
    return {i: CLASSES.index(SOURCE_CLASSES[n]) for i, n in enumerate(names) if n in SOURCE_CLASSES}


def truth_of(item: LabelledImage, mapping: dict[int, int], width: int, height: int) -> Boxes:
    labels = item.labels()
    keep = np.array([int(c) in mapping for c in labels.classes], dtype=bool)
    boxes = labels.xyxy(width, height)[keep] if len(labels) else np.zeros((0, 4))
    classes = [mapping[int(c)] for c in labels.classes[keep]] if len(labels) else []
    return Boxes(
        np.asarray(boxes, dtype=np.float64).reshape(-1, 4), np.asarray(classes, dtype=np.int64)
    )


def cache(items: Sequence[LabelledImage], mapping: dict[int, int], imgsz: int) -> Cached:
    images, boxes, classes = [], [], []
    for item in items:
        image = cv2.imread(str(item.image))
        if image is None:
            raise DatasetError(f"{item.image}: not a readable picture")
        h, w = image.shape[:2]
        boxed, lb = letterbox(image, (imgsz, imgsz))
        truth = truth_of(item, mapping, w, h)
        b = truth.boxes * lb.ratio + np.array([lb.pad_x, lb.pad_y, lb.pad_x, lb.pad_y])
        images.append(boxed)
        boxes.append(b.astype(np.float32))
        classes.append(truth.classes)
    return Cached(np.stack(images), boxes, classes, [i.image.name for i in items])


def augment(
    image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, crop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A random zoom (in up to 1.7x, out to 0.35x on grey), flip and photometric jitter,
    cut to a `crop` x `crop` window (default: the picture's size). Training on crops
    smaller than the input keeps the scale the detector sees in service at less cost."""
    s = crop or image.shape[0]
    zoom = math.exp(rng.uniform(math.log(0.35), math.log(1.7)))
    # the affine: scale by `zoom`, shifted at random so the view stays on the picture
    span = image.shape[0] * zoom
    tx = rng.uniform(min(0.0, s - span), max(0.0, s - span))
    ty = rng.uniform(min(0.0, s - span), max(0.0, s - span))
    if rng.random() < 0.5:
        matrix = np.array([[-zoom, 0, tx + span], [0, zoom, ty]], dtype=np.float32)
    else:
        matrix = np.array([[zoom, 0, tx], [0, zoom, ty]], dtype=np.float32)
    out = cv2.warpAffine(
        image, matrix, (s, s), flags=cv2.INTER_LINEAR, borderValue=(PAD_VALUE,) * 3
    )
    if len(boxes):
        xs = boxes[:, [0, 2]] * matrix[0, 0] + matrix[0, 2]
        ys = boxes[:, [1, 3]] * matrix[1, 1] + matrix[1, 2]
        b = np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], 1)
        clipped = np.clip(b, 0, s)
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        kept_area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
        # a box mostly cut off is dropped (its centre left the picture); a sliver of
        # flame at the edge would otherwise be taught as a whole flame
        boxes = np.where((kept_area >= 0.4 * np.maximum(area, 1e-6))[:, None], clipped, np.nan)
    contrast = rng.uniform(0.7, 1.3)
    bright = rng.uniform(-30, 30)
    out = np.clip(out.astype(np.float32) * contrast + bright, 0, 255).astype(np.uint8)
    if rng.random() < 0.1:  # night / IR cameras send grey pictures
        grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
        out = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    return out, boxes


def targets(
    boxes: np.ndarray, classes: np.ndarray, nc: int, grid: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CenterNet targets: heat (nc, g, g) Gaussians, offset and log size (2, g, g) and a
    mask (g, g) of the centre cells."""
    heat = np.zeros((nc, grid, grid), np.float32)
    offset = np.zeros((2, grid, grid), np.float32)
    size = np.zeros((2, grid, grid), np.float32)
    mask = np.zeros((grid, grid), np.float32)
    ys, xs = np.mgrid[0:grid, 0:grid].astype(np.float32)
    for (x1, y1, x2, y2), c in zip(boxes, classes, strict=True):
        if not np.isfinite(x1):
            continue
        w, h = (x2 - x1) / stride, (y2 - y1) / stride
        if w < 0.25 or h < 0.25:
            continue
        cx, cy = (x1 + x2) / 2 / stride, (y1 + y2) / 2 / stride
        gx, gy = min(int(cx), grid - 1), min(int(cy), grid - 1)
        sx, sy = max(w / 6, 0.5), max(h / 6, 0.5)
        g = np.exp(-((xs - gx) ** 2) / (2 * sx * sx) - ((ys - gy) ** 2) / (2 * sy * sy))
        heat[c] = np.maximum(heat[c], g)
        heat[c, gy, gx] = 1.0
        offset[:, gy, gx] = (cx - gx, cy - gy)
        size[:, gy, gx] = (math.log(w), math.log(h))
        mask[gy, gx] = 1.0
    return heat, offset, size, mask


def _losses(net_out: Any, batch: Any) -> Any:
    import torch

    heat_logit, offset_logit, log_size = net_out
    heat_t, offset_t, size_t, mask = batch
    p = torch.sigmoid(heat_logit).clamp(1e-4, 1 - 1e-4)
    pos = heat_t.eq(1).float()
    neg = 1 - pos
    pos_loss = torch.log(p) * (1 - p) ** 2 * pos
    neg_loss = torch.log(1 - p) * p**2 * (1 - heat_t) ** 4 * neg
    n_pos = pos.sum().clamp(min=1)
    focal = -(pos_loss.sum() + neg_loss.sum()) / n_pos
    m = mask.unsqueeze(1)
    n_box = mask.sum().clamp(min=1)
    off = (torch.abs(torch.sigmoid(offset_logit) - offset_t) * m).sum() / n_box
    siz = (torch.abs(log_size - size_t) * m).sum() / n_box
    return focal + off + 0.5 * siz


def train_net(
    data: Cached,
    job: FlameTraining,
    progress: Callable[[int, float, float], None] | None = None,
    classes: Sequence[str] = CLASSES,
) -> tuple[Any, int, float]:
    """Train a FlameNet with one heat-map per class of `classes` (the flame detector's, or
    another recipe's: `face_detector`) for `job.minutes` of wall time; (net, steps,
    seconds)."""
    import torch

    from brightwatch.vision.training.flame_net import STRIDE, FlameNet, freeze_norms, load_export

    if job.threads:
        torch.set_num_threads(job.threads)
    torch.manual_seed(job.seed)
    rng = np.random.default_rng(job.seed)
    net = FlameNet(len(classes), job.width)
    exported = job.resume is not None and job.resume.suffix == ".onnx"
    if job.resume is not None and exported:
        load_export(net, job.resume)  # a shipped export without its checkpoint: norms frozen
    elif job.resume is not None:
        net.load_state_dict(torch.load(job.resume, map_location="cpu", weights_only=True))
    optimiser = torch.optim.AdamW(net.parameters(), lr=job.lr, weight_decay=5e-4)
    crop = min(job.crop, job.imgsz)
    grid = crop // STRIDE
    budget = job.minutes * 60
    start = time.monotonic()
    steps = 0
    net.train()
    if exported:
        freeze_norms(net)
    while (elapsed := time.monotonic() - start) < budget and steps < (job.max_steps or 1 << 62):
        # cosine decay over the wall-time budget, after a short warm-up
        frac = elapsed / budget
        lr = (
            job.lr * min(1.0, (steps + 1) / job.warmup_steps) * 0.5 * (1 + math.cos(math.pi * frac))
        )
        for group in optimiser.param_groups:
            group["lr"] = max(lr, job.lr * 0.01)
        picks = rng.integers(0, len(data.images), job.batch)
        ims, heats, offs, sizes, masks = [], [], [], [], []
        for k in picks:
            im, bx = augment(data.images[k], data.boxes[k], rng, crop)
            t = targets(bx, data.classes[k], len(classes), grid, STRIDE)
            ims.append(im[..., ::-1].transpose(2, 0, 1))
            heats.append(t[0])
            offs.append(t[1])
            sizes.append(t[2])
            masks.append(t[3])
        x = torch.from_numpy(np.ascontiguousarray(np.stack(ims), dtype=np.float32) / 255)
        batch = [torch.from_numpy(np.stack(a)) for a in (heats, offs, sizes, masks)]
        loss = _losses(net(x), batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        steps += 1
        if progress is not None:
            progress(steps, time.monotonic() - start, float(loss.detach()))
    net.eval()
    return net, steps, time.monotonic() - start


def evaluate(
    model: Path,
    items: Sequence[LabelledImage],
    mapping: dict[int, int],
    classes: Sequence[str] = CLASSES,
    operating_score: float = ALARM_SCORE,
) -> dict[str, Any]:
    """AP50 etc. of an ONNX export on `items`, through the service's `OnnxDetector` (same
    letterbox, decoding and NMS as in production), at a low score so the PR curve is whole;
    precision/recall are at the alarm score."""
    from brightwatch.vision.detector.onnx_backend import OnnxDetector

    detector = OnnxDetector(model, conf=0.01, threads=1)
    acc = Accumulator(classes, operating_score=operating_score)
    for item in items:
        image = cv2.imread(str(item.image))
        if image is None:
            raise DatasetError(f"{item.image}: not a readable picture")
        h, w = image.shape[:2]
        found = detector.detect(image)
        pred = Boxes.of(
            [d.box for d in found],
            [list(classes).index(d.label) for d in found],
            [d.score for d in found],
        )
        acc.add(pred, truth_of(item, mapping, w, h))
    return acc.result().summary()


def ship(
    net: Any,
    job: FlameTraining,
    steps: int,
    seconds: float,
    classes: Sequence[str],
    what: str,
    facts: dict[str, Any],
    metadata: dict[str, str],
    sets: dict[str, Sequence[LabelledImage]],
    mapping: dict[int, int],
    operating_score: float,
    judged: str,
) -> FlameResult:
    """The end of a from-scratch training (flames, faces): keep the torch weights
    (`job.checkpoint`), export fp32 and dynamic-int8 ONNX (`what` and the training's size
    in the model's description, `metadata` beside it), score both on each of `sets` (the
    first one, `held_out`, decides), write the int8 file to `job.output` when its AP50 of
    class `judged` is at most INT8_MAX_AP_LOSS below fp32's, else the fp32 file, and the
    record (`facts` of the recipe, the job, the figures) to the .json beside it."""
    import torch

    from brightwatch.vision.training.flame_net import export_onnx
    from brightwatch.vision.training.quantize import quantize_dynamic_int8

    if job.checkpoint is not None:
        job.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        torch.save(net.state_dict(), job.checkpoint)
    description = f"{what}; {steps} steps, {seconds / 60:.0f} min CPU"
    record: dict[str, Any] = {
        "job": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(job).items()},
        "classes": list(classes),
        **facts,
        "parameters": sum(p.numel() for p in net.parameters()),
        "steps": steps,
        "train_seconds": round(seconds, 1),
    }
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_onnx(net, Path(tmp) / "fp32.onnx", classes, job.imgsz, description, metadata)
        int8 = quantize_dynamic_int8(fp32, Path(tmp) / "int8.onnx")
        figures: dict[str, dict[str, Any]] = {}
        for variant, path in (("fp32", fp32), ("int8", int8)):
            scored: dict[str, Any] = {
                name: evaluate(path, items, mapping, classes, operating_score)
                for name, items in sets.items()
            }
            figures[variant] = {**scored, "bytes": path.stat().st_size}
        ap = {v: figures[v]["held_out"]["classes"][judged]["AP50"] for v in figures}
        chosen = "int8" if ap["int8"] >= ap["fp32"] - INT8_MAX_AP_LOSS else "fp32"
        job.output.parent.mkdir(parents=True, exist_ok=True)
        job.output.write_bytes((int8 if chosen == "int8" else fp32).read_bytes())
    record["variants"] = figures
    record["shipped"] = chosen
    job.output.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    return FlameResult(job.output, steps, seconds, figures[chosen]["held_out"], record)


def train_flame(
    job: FlameTraining, progress: Callable[[int, float, float], None] | None = None
) -> FlameResult:
    dataset = open_set(job.data)
    mapping = class_map(dataset.names)
    default = dataset.names.index(DROPPED_CLASS) if DROPPED_CLASS in dataset.names else None
    parts = flame_split.split(dataset.splits["train"], default)
    if not parts["train"] or not parts["held_out"]:
        raise DatasetError(f"{job.data}: the source split left no training or held-out picture")
    log.info("split: %s", {k: len(v) for k, v in parts.items()})
    cached = cache(parts["train"], mapping, job.imgsz)
    net, steps, seconds = train_net(cached, job, progress)
    facts = {
        "split": {k: len(v) for k, v in parts.items()},
        "split_rule": {
            "reserved_video": flame_split.RESERVED_VIDEO,
            "held_out_videos": sorted(flame_split.HELD_OUT_VIDEOS),
            "img_block": flame_split.IMG_BLOCK,
            "held_out_every": flame_split.HELD_OUT_EVERY,
            "guard": flame_split.GUARD,
        },
        "alarm_score": ALARM_SCORE,
        "data_licence": "CC BY 4.0",
        "attribution": ATTRIBUTION,
    }
    return ship(
        net,
        job,
        steps,
        seconds,
        CLASSES,
        f"brightwatch flame detector, trained from scratch on fire_smoke ({ATTRIBUTION})",
        facts,
        {"licence": "weights: project's; data CC BY 4.0", "attribution": ATTRIBUTION},
        {"held_out": parts["held_out"], "reserved_video": parts["reserved"]},
        mapping,
        ALARM_SCORE,
        "fire",
    )
