"""Training a YOLO detector with ultralytics (the optional extra), then exporting it to
ONNX for the default runtime.

There are no pretrained `.pt` weights in this project's reach (and none may be fetched):
a new detector starts from an architecture file (`yolo11n.yaml`, random initialisation),
an existing `.pt` (a bureau's model, or one trained before) is fine-tuned. On a CPU keep
`imgsz` small (320) and the epochs few; `time_limit_h` bounds the run whatever the epochs.
`negatives` adds background pictures (no object, empty labels) to the training split only
(`vision.training.negatives` picks them); `on_epoch` is called after each epoch (progress).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from brightwatch.vision.training.negatives import select_negatives
from brightwatch.vision.training.prepare import prepare_detector_set
from brightwatch.vision.ultralytics_env import import_ultralytics
from brightwatch.vision.yoloset import open_set

log = logging.getLogger(__name__)


@dataclass
class DetectorTraining:
    data: Path  # YOLO-format set (data.yaml or its folder)
    output: Path  # the exported .onnx; the .pt and a .json record land beside it
    model: str = "yolo11n.yaml"  # architecture (random init, or init_from) or a .pt to fine-tune
    epochs: int = 30
    imgsz: int = 320
    batch: int = 16
    holdout: float = 0.2
    seed: int = 0
    single_class: str | None = None
    init_from: Path | None = None  # an ultralytics ONNX export whose weights start the run
    time_limit_h: float | None = None
    patience: int = 50
    workers: int = 1
    device: str = "cpu"
    work_dir: Path = field(default_factory=lambda: Path("runs/train"))
    extra: dict[str, Any] = field(default_factory=dict)  # further ultralytics train args
    negatives: tuple[str, ...] = ()  # sets / folders / globs of pictures without the classes
    negatives_ratio: float = 0.5  # at most this many negatives per positive training image
    negatives_dark: float = 0.25  # share of the negatives added as darkened (night) copies
    negatives_skip: tuple[str, ...] = ()  # class names whose pictures are not negatives
    # (epochs done, epochs planned, seconds since training began) after each epoch
    on_epoch: Callable[[int, int, float], None] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TrainedDetector:
    onnx: Path
    weights: Path
    record: Path
    metrics: dict[str, float]


def train_detector(job: DetectorTraining) -> TrainedDetector:
    ul = import_ultralytics("training a detector")
    name = job.output.stem
    yset = open_set(job.data)
    negatives = []
    if job.negatives:
        negatives = select_negatives(
            job.negatives,
            len(yset.split("train", holdout=job.holdout, seed=job.seed)),
            ratio=job.negatives_ratio,
            dark_share=job.negatives_dark,
            holdout=job.holdout,
            seed=job.seed,
            skip_classes=job.negatives_skip,
            exclude=[i.image for i in yset.split("all")],
        )
    prepared = prepare_detector_set(
        yset,
        job.work_dir / f"{name}-data",
        holdout=job.holdout,
        seed=job.seed,
        single_class=job.single_class,
        negatives=negatives,
    )
    log.info(
        "training %s on %d images + %d negatives (held out %d), classes %s",
        name,
        prepared.train,
        prepared.negatives,
        prepared.val,
        ", ".join(prepared.names),
    )
    start = job.model
    if job.init_from is not None:
        from brightwatch.vision.training.transfer import checkpoint_from_onnx

        calibration = [i.image for i in yset.split("train", holdout=job.holdout, seed=job.seed)]
        start = str(
            checkpoint_from_onnx(
                job.init_from,
                job.model,
                job.work_dir / f"{name}-init.pt",
                calibration[:: max(1, len(calibration) // 64)][:64],
                imgsz=job.imgsz,
            )
        )
    model = ul.YOLO(start)
    args: dict[str, Any] = {
        "data": str(prepared.data_yaml),
        "epochs": job.epochs,
        "imgsz": job.imgsz,
        "batch": job.batch,
        "device": job.device,
        "workers": job.workers,
        "seed": job.seed,
        "patience": job.patience,
        "project": str(job.work_dir.resolve()),
        "name": name,
        "exist_ok": True,
        # offline: no font download for plots, no yolo11n.pt download for the AMP check;
        # a .yaml starts from random initialisation, a .pt from its own weights
        "plots": False,
        "amp": False,
        "pretrained": not start.endswith((".yaml", ".yml")),
        "cache": "ram",
    }
    if job.time_limit_h:
        args["time"] = job.time_limit_h
    args.update(job.extra)
    if job.on_epoch is not None:
        report = job.on_epoch

        last = {"stopped": False}

        def _epoch_done(trainer: Any) -> None:
            if last["stopped"]:
                return  # the final validation of best.pt calls the hook once more
            last["stopped"] = bool(getattr(trainer, "stop", False))
            done = int(trainer.epoch) + 1
            elapsed = time.time() - float(getattr(trainer, "train_time_start", 0) or time.time())
            # time mode re-plans the count each epoch; the last epoch is the count
            planned = done if last["stopped"] else max(int(trainer.epochs), done)
            report(done, planned, elapsed)

        model.add_callback("on_fit_epoch_end", _epoch_done)
    started = time.monotonic()
    model.train(**args)
    trained_s = time.monotonic() - started
    run_dir = job.work_dir / name
    best = run_dir / "weights" / "best.pt"
    if not best.exists():
        best = run_dir / "weights" / "last.pt"
    job.output.parent.mkdir(parents=True, exist_ok=True)
    weights = job.output.with_suffix(".pt")
    shutil.copyfile(best, weights)
    onnx_path = export_onnx(weights, job.output, imgsz=job.imgsz)
    metrics = _final_metrics(run_dir)
    record = job.output.with_suffix(".json")
    record.write_text(
        json.dumps(
            {
                "model": name,
                "onnx": str(job.output),
                "weights": str(weights),
                "classes": list(prepared.names),
                "train_images": prepared.train,
                "negative_images": prepared.negatives,
                "val_images": prepared.val,
                "holdout": job.holdout,
                "seed": job.seed,
                "training_seconds": round(trained_s, 1),
                "ultralytics_val": metrics,
                "job": {
                    f.name: str(getattr(job, f.name)) for f in fields(job) if f.name != "on_epoch"
                },
            },
            indent=2,
        )
    )
    return TrainedDetector(onnx_path, weights, record, metrics)


def export_onnx(
    weights: Path,
    output: Path | None = None,
    *,
    imgsz: int | None = None,
    dynamic: bool = False,
    half: bool = False,
    int8: bool = False,
) -> Path:
    """An fp32 (or int8, dynamically quantised) ONNX export of an ultralytics model, with
    its class names, image size and stride in the ONNX metadata as ultralytics writes
    them."""
    ul = import_ultralytics("exporting a .pt model")
    model = ul.YOLO(str(weights))
    kwargs: dict[str, Any] = {
        "format": "onnx",
        "simplify": False,  # onnxslim is not a dependency; ORT optimises the graph itself
        "dynamic": dynamic,
        "half": half,
        "device": "cpu",
    }
    if imgsz:
        kwargs["imgsz"] = imgsz
    exported = Path(model.export(**kwargs))
    output = output or weights.with_suffix(".onnx")
    if exported.resolve() != output.resolve():
        shutil.move(str(exported), output)
    if int8:
        from brightwatch.vision.training.quantize import quantize_dynamic_int8

        quantize_dynamic_int8(output, output)
    return output


def _final_metrics(run_dir: Path) -> dict[str, float]:
    """The last row of ultralytics' results.csv (its own validation on the held-out set)."""
    csv = run_dir / "results.csv"
    if not csv.exists():
        return {}
    lines = [line for line in csv.read_text().splitlines() if line.strip()]
    header = [h.strip() for h in lines[0].split(",")]
    last = [v.strip() for v in lines[-1].split(",")]
    out = {}
    for key, value in zip(header, last, strict=False):
        if key.startswith("metrics/"):
            try:
                out[key.removeprefix("metrics/")] = float(value)
            except ValueError:
                continue
    return out
