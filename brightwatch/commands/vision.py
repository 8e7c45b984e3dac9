"""`brightwatch vision detect|eval|train|export`: the detector tools (interfaces.md, CLI)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from brightwatch.cli import main, settings_from_env

if TYPE_CHECKING:
    from brightwatch.settings import Settings
    from brightwatch.vision.classify import OnnxAttributeClassifier
    from brightwatch.vision.detector import Detector
    from brightwatch.vision.evaluation.pipeline import Assess as PipelineAssess


@main.group()
def vision() -> None:
    """Run, evaluate, train and export detectors."""


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _model_options(
    conf: float | None, imgsz: int | None, device: str | None, threads: int | None
) -> dict[str, object]:
    options: dict[str, object] = {}
    if conf is not None:
        options["conf"] = conf
    if imgsz is not None:
        options["imgsz"] = imgsz
    if device is not None:
        options["device"] = device
    if threads is not None:
        options["threads"] = threads
    return options


def _load_detector(
    settings: Settings, spec: str | None, backend: str | None, **options: object
) -> Detector:
    from brightwatch.vision.detector import DetectorError, load_detector

    try:
        return load_detector(
            spec or settings.model,
            backend=backend,
            models=settings.vision.models,
            data_dir=settings.data_dir,
            **options,
        )
    except DetectorError as exc:
        _fail(str(exc))


model_option = click.option(
    "--model",
    "model_spec",
    default=None,
    help="Model file (.onnx, .pt) or configured/built-in name (default BW_MODEL, 'coco').",
)


def _registered_backend(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    from brightwatch.vision.detector import check_backend

    try:
        return None if value is None else check_backend(value)
    except ValueError as exc:  # names the registered backends
        raise click.BadParameter(str(exc)) from None


backend_option = click.option(
    "--backend",
    default=None,
    callback=_registered_backend,
    help="Detector backend: a type key registered in vision.detector.base.BACKENDS (default: by file type).",
)
imgsz_option = click.option(
    "--imgsz",
    type=click.IntRange(32, 4096),
    default=None,
    help="Input side for models with a dynamic input size.",
)
device_option = click.option(
    "--device", type=click.Choice(["cpu", "cuda", "auto"]), default=None, help="Where to run."
)
threads_option = click.option(
    "--threads", type=click.IntRange(1, 256), default=None, help="Intra-op threads."
)


@vision.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@model_option
@backend_option
@click.option("--conf", type=click.FloatRange(0.0, 1.0), default=None, help="Minimum score.")
@imgsz_option
@device_option
@threads_option
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write annotated copies (boxes drawn) into this folder.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write one JSON object per image or frame (the detections payload) to this file.",
)
@click.option(
    "--every", default=1, show_default=True, type=click.IntRange(1), help="Video: every Nth frame."
)
@click.option(
    "--max-frames", default=None, type=click.IntRange(1), help="Video: stop after N frames."
)
def detect(
    sources: tuple[Path, ...],
    model_spec: str | None,
    backend: str | None,
    conf: float | None,
    imgsz: int | None,
    device: str | None,
    threads: int | None,
    save: Path | None,
    json_out: Path | None,
    every: int,
    max_frames: int | None,
) -> None:
    """Run the detector on images, folders of images or video files."""
    import json

    import cv2
    from tqdm import tqdm

    from brightwatch.alerts.evidence.annotation import annotate
    from brightwatch.vision.frames import FrameSourceError, frames_of, read_ahead

    settings = settings_from_env()
    detector = _load_detector(
        settings, model_spec, backend, **_model_options(conf, imgsz, device, threads)
    )
    click.echo(f"model {detector.name}@{detector.version}: {len(detector.names)} classes", err=True)
    if save:
        save.mkdir(parents=True, exist_ok=True)
    sink = json_out.open("w") if json_out else None
    total = 0
    try:
        for key, image in tqdm(
            # the next picture decoded while this one is inferred
            read_ahead(frames_of(sources, every=every, max_frames=max_frames)),
            unit="frame",
            desc="detect",
        ):
            found = detector.detect(image)
            total += len(found)
            listed = ", ".join(
                f"{d.label} {d.score:.2f} [{', '.join(f'{v:.0f}' for v in d.box)}]" for d in found
            )
            tqdm.write(f"{key}: {listed or '-'}")
            if sink:
                h, w = image.shape[:2]
                record = {
                    "source": key,
                    "model": f"{detector.name}@{detector.version}",
                    "width": w,
                    "height": h,
                    "objects": [
                        {
                            "label": d.label,
                            "score": round(d.score, 4),
                            "box": [round(v, 1) for v in d.box],
                        }
                        for d in found
                    ],
                }
                sink.write(json.dumps(record) + "\n")
            if save:
                stem = Path(key.split("#")[0]).stem + (
                    "_" + key.split("#")[1] if "#" in key else ""
                )
                cv2.imwrite(str(save / f"{stem}.jpg"), annotate(image, found))
    except FrameSourceError as exc:
        _fail(str(exc))
    finally:
        if sink:
            sink.close()
    click.echo(f"{total} objects", err=True)


@vision.command(name="eval")
@click.option(
    "--data",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="YOLO-format labelled set (data.yaml or its folder).",
)
@click.option(
    "--split",
    type=click.Choice(["val", "train", "all", "dev", "holdout"]),
    default=None,
    help="Which images. --data: val (default; the set's val folder, or the held-out part "
    "carved as `train` does), train or all. --pipeline: dev (default), holdout or all.",
)
@click.option(
    "--holdout",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
)
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--video",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A video to evaluate frame by frame instead of --data (with --labels).",
)
@click.option(
    "--labels",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Per-frame YOLO label files of --video (frame number in the file name).",
)
@click.option("--names", default=None, help="Class names of --labels, comma-separated (e.g. rat).")
@model_option
@backend_option
@imgsz_option
@device_option
@threads_option
@click.option(
    "--classifier",
    default=None,
    help="Attribute classifier (file or name, e.g. mask): relabels the detector's boxes "
    "(two-stage), or alone classifies the set's own boxes.",
)
@click.option(
    "--classify-label", default=None, help="Only boxes of this detector class go to the classifier."
)
@click.option(
    "--crop-expand",
    type=click.FloatRange(1.0, 4.0),
    default=None,
    help="Default: the classifier's own.",
)
@click.option(
    "--class-map", multiple=True, help="model=set class renames, e.g. mouse=rat (repeatable)."
)
@click.option(
    "--single-class",
    default=None,
    help="Merge the set's classes into this one (as `train detector --single-class` did), "
    "e.g. face for a face detector on the face-mask set.",
)
@click.option(
    "--conf",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Operating threshold for precision/recall and the confusion matrix.",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Evaluate at most N images.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for metrics.json and the plots (default runs/eval/<model>-<set>); with "
    "--pipeline, for the built dev set, pipeline.json and its plots (default "
    "BW_DATA_DIR/devset).",
)
@click.option(
    "--pipeline",
    is_flag=True,
    help="Score the deployed per-frame pipeline (`vision assess`) on the labelled kitchen dev "
    "set: persons, mask and hat answers, and codes, per split and per variant.",
)
@click.option(
    "--devset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="--pipeline: the dev set labels (default models/devset/labels.json).",
)
@click.option(
    "--shared",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="--pipeline: the shared media the dev set is rebuilt from (default ../shared).",
)
@click.option("--json", "as_json", is_flag=True, help="--pipeline: print the report as JSON.")
def eval_(
    data: Path | None,
    split: str | None,
    holdout: float,
    seed: int,
    video: Path | None,
    labels: Path | None,
    names: str | None,
    model_spec: str | None,
    backend: str | None,
    imgsz: int | None,
    device: str | None,
    threads: int | None,
    classifier: str | None,
    classify_label: str | None,
    crop_expand: float | None,
    class_map: tuple[str, ...],
    single_class: str | None,
    conf: float,
    limit: int | None,
    out: Path | None,
    pipeline: bool,
    devset: Path | None,
    shared: Path | None,
    as_json: bool,
) -> None:
    """Evaluate a model against YOLO-format labels: mAP50, mAP50-95, P/R per class, plots;
    or, with --pipeline, the whole per-frame pipeline on the kitchen dev set."""
    from brightwatch.vision.evaluation import report
    from brightwatch.vision.evaluation.jobs import evaluate_classifier_alone, evaluate_detector
    from brightwatch.vision.evaluation.runner import EvaluationError
    from brightwatch.vision.evaluation.sources import open_labelled_set, open_labelled_video
    from brightwatch.vision.yoloset import DatasetError

    if pipeline:
        _refuse_pipeline_combinations(
            split=split,
            others={
                "--data": data,
                "--video": video,
                "--labels": labels,
                "--names": names,
                "--classifier": classifier,
                "--classify-label": classify_label,
                "--crop-expand": crop_expand,
                "--class-map": class_map,
                "--single-class": single_class,
                "--limit": limit,
                "--backend": backend,
                "--imgsz": imgsz,
                "--device": device,
                "--threads": threads,
            },
        )
        _eval_pipeline(
            _pipeline_assessor(settings_from_env(), model_spec),
            devset=devset,
            shared=shared,
            split=split or "dev",
            out=out,
            as_json=as_json,
        )
        return
    split = split or "val"
    _refuse_eval_combinations(
        split=split,
        data=data,
        video=video,
        labels=labels,
        names=names,
        classifier=classifier,
        single_class=single_class,
        model_spec=model_spec,
        pipeline_only={"--devset": devset, "--shared": shared, "--json": as_json},
    )
    mapping = _class_map(class_map)
    settings = settings_from_env()
    cls_model = _load_classifier(settings, classifier) if classifier else None
    try:
        if data is not None:
            source = open_labelled_set(
                data,
                split=split,
                holdout=holdout,
                seed=seed,
                limit=limit,
                single_class=single_class,
            )
        else:
            assert video is not None and labels is not None and names
            set_names = [n.strip() for n in names.split(",") if n.strip()]
            source = open_labelled_video(video, labels, set_names, limit=limit)
    except DatasetError as exc:
        _fail(str(exc))

    if cls_model is not None and model_spec is None:
        try:
            alone = evaluate_classifier_alone(
                cls_model, source, crop_expand=crop_expand, class_map=mapping, out=out
            )
        except ValueError as exc:
            _fail(str(exc))
        click.echo(report.classification_table(alone.result))
        click.echo(f"wrote {alone.paths['json']} and {alone.paths['confusion_matrix']}")
        return

    options = _model_options(None, imgsz, device, threads)
    if backend == "labels":  # replayed labels are in the set's own class space
        options["names"] = source.names
    detector = _load_detector(settings, model_spec, backend, **options)
    try:
        done = evaluate_detector(
            detector,
            source,
            classifier=cls_model,
            classify_label=classify_label,
            crop_expand=crop_expand,
            class_map=mapping,
            operating_score=conf,
            out=out,
        )
    except (EvaluationError, DatasetError) as exc:
        _fail(str(exc))
    click.echo(report.detection_table(done.result))
    click.echo(
        f"{done.stats.ms_per_frame:.1f} ms per frame; wrote {done.paths['json']}, "
        f"{done.paths['pr_curves'].name}, {done.paths['confusion_matrix'].name}"
    )


def _refuse_eval_combinations(
    *,
    split: str,
    data: Path | None,
    video: Path | None,
    labels: Path | None,
    names: str | None,
    classifier: str | None,
    single_class: str | None,
    model_spec: str | None,
    pipeline_only: dict[str, object],
) -> None:
    """Options of `eval` that make no evaluation together, refused before anything loads."""
    given = [name for name, value in pipeline_only.items() if value]
    if given:
        _fail(f"{', '.join(given)} only go with --pipeline")
    if split not in ("val", "train", "all"):
        _fail(f"--split {split} is a dev set split (with --pipeline); --data takes val, train, all")
    if (data is None) == (video is None):
        _fail("give either --data (a labelled set) or --video with --labels")
    if video is not None and (labels is None or not names):
        _fail("--video needs --labels (per-frame label folder) and --names (e.g. --names rat)")
    if data is not None and single_class and classifier:
        _fail("--single-class evaluates a detector alone (no --classifier)")
    if video is not None and classifier and model_spec is None:
        _fail("classifier-only evaluation needs --data (it classifies the set's own boxes)")


def _refuse_pipeline_combinations(*, split: str | None, others: dict[str, object]) -> None:
    """`eval --pipeline` runs the configured pipeline on the dev set: options that pick
    another set or tune a single model make no sense with it."""
    given = [name for name, value in others.items() if value]
    if given:
        _fail(
            f"--pipeline evaluates the configured pipeline on the dev set; drop {', '.join(given)}"
        )
    if split not in (None, "dev", "holdout", "all"):
        _fail(f"--pipeline takes --split dev, holdout or all, not {split}")


def _pipeline_assessor(settings: Settings, model_spec: str | None) -> PipelineAssess:
    """The deployed per-frame pipeline with the configured (default: shipped) models."""
    from brightwatch.vision.frame_assess import FrameAssessor

    assessor = FrameAssessor.from_settings(
        settings.vision, model_spec or settings.model, settings.data_dir
    )
    if not assessor.inference.detectors:
        _fail("no detector could be loaded (see the warnings above): nothing to assess", 1)
    return assessor.assess


def _eval_pipeline(
    assess: PipelineAssess,
    *,
    devset: Path | None,
    shared: Path | None,
    split: str,
    out: Path | None,
    as_json: bool,
) -> None:
    """Build the dev set, run `assess` on every frame of the split, print and write the
    report (`pipeline.json` and two plots in --out)."""
    import json
    import tempfile

    from brightwatch.vision.evaluation.devset import (
        DEFAULT_LABELS,
        REPO_ROOT,
        DevSetError,
        DevSetUnavailable,
    )
    from brightwatch.vision.evaluation.pipeline import PipelineEvalError, evaluate_pipeline
    from brightwatch.vision.evaluation.pipeline_report import table
    from brightwatch.vision.evaluation.report import _clean

    if out is None:
        out = settings_from_env().data_dir / "devset"
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only data folder: build in a temporary one
            out = Path(tempfile.mkdtemp(prefix="brightwatch-devset-"))
    try:
        done = evaluate_pipeline(
            assess,
            shared or REPO_ROOT.parent / "shared",
            devset or DEFAULT_LABELS,
            out,
            split=split,
        )
    except DevSetUnavailable as exc:
        _fail(f"{exc}\nthe dev set cannot be built without the shared media (--shared)", 1)
    except (DevSetError, PipelineEvalError) as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(_clean(done.report), indent=1))
    else:
        click.echo(table(done.report))
    click.echo(
        f"{len(done.frames)} frames; wrote {done.paths['json']}, {done.paths['codes'].name}, "
        f"{done.paths['variants'].name}",
        err=as_json,
    )


def _class_map(pairs: tuple[str, ...]) -> dict[str, str]:
    """`--class-map model=set` options: model class name -> the set's class name."""
    mapping = {}
    for item in pairs:
        model_class, sep, set_class = item.partition("=")
        if not sep or not model_class or not set_class:
            _fail(f"--class-map takes model=set, not {item!r}")
        mapping[model_class] = set_class
    return mapping


def _load_classifier(settings: Settings, spec: str) -> OnnxAttributeClassifier:
    from brightwatch.vision.classify import load_classifier
    from brightwatch.vision.detector import DetectorError

    try:
        return load_classifier(spec, models=settings.vision.classifiers, data_dir=settings.data_dir)
    except DetectorError as exc:
        _fail(str(exc))


@vision.command()
@click.argument("model", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Default: MODEL with .onnx (MODEL_int8.onnx when quantising an .onnx).",
)
@click.option(
    "--imgsz",
    type=click.IntRange(32, 4096),
    default=None,
    help="Input side (default: the model's).",
)
@click.option("--dynamic", is_flag=True, help="Dynamic batch and image size.")
@click.option("--half", is_flag=True, help="fp16 weights (GPU runtimes).")
@click.option(
    "--int8",
    type=click.Choice(["dynamic", "static"]),
    default=None,
    help="Quantise afterwards: dynamic (weights only) or static (calibrated on --calibration).",
)
@click.option(
    "--calibration",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of sample frames for --int8 static (64 are used).",
)
def export(
    model: Path,
    output: Path | None,
    imgsz: int | None,
    dynamic: bool,
    half: bool,
    int8: str | None,
    calibration: Path | None,
) -> None:
    """Export a model (.pt, ultralytics extra) to ONNX, and/or quantise it to int8."""
    from brightwatch.vision.training.detector import export_onnx
    from brightwatch.vision.training.quantize import quantize_dynamic_int8, quantize_static_int8
    from brightwatch.vision.ultralytics_env import UltralyticsMissing
    from brightwatch.vision.yoloset import list_images

    settings_from_env()
    if int8 == "static" and calibration is None:
        _fail("--int8 static needs --calibration FOLDER (sample frames)")
    if model.suffix.lower() == ".onnx":
        if not int8:
            _fail(f"{model} is already ONNX; add --int8 dynamic|static to quantise it")
        source = model
        target = output or model.with_name(model.stem + "_int8.onnx")
    else:
        try:
            source = export_onnx(model, output, imgsz=imgsz, dynamic=dynamic, half=half)
        except UltralyticsMissing as exc:
            _fail(str(exc))
            return
        target = source
    if int8 == "dynamic":
        quantize_dynamic_int8(source, target)
    elif int8 == "static":
        assert calibration is not None
        images = list_images(calibration)
        if not images:
            _fail(f"no images in {calibration}")
        quantize_static_int8(source, target, images[:: max(1, len(images) // 64)])
    from brightwatch.vision.detector.onnx_backend import OnnxDetector

    check = OnnxDetector(target)
    click.echo(
        f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB): {check.name}@{check.version}, "
        f"input {check.input_size}, classes {', '.join(check.names[:10])}"
        f"{' ...' if len(check.names) > 10 else ''}"
    )


@vision.group()
def train() -> None:
    """Train or fine-tune a detector (ultralytics) or an attribute classifier (torch)."""


@train.command(name="detector")
@click.option(
    "--data",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="YOLO-format set: data.yaml or its folder (e.g. one exported from review decisions).",
)
@click.option("--name", default=None, help="Model name (default: the output file's stem).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The .onnx to write (default BW_DATA_DIR/models/<name>.onnx); .pt and .json beside.",
)
@click.option(
    "--model",
    default="yolo11n.yaml",
    show_default=True,
    help="Architecture to start from (random init) or a .pt to fine-tune.",
)
@click.option("--epochs", default=30, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--imgsz", default=320, show_default=True, type=click.IntRange(32, 4096))
@click.option("--batch", default=16, show_default=True, type=click.IntRange(1, 1024))
@click.option(
    "--holdout",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    help="Share of images held out for validation when the set has no val folder.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the held-out split.")
@click.option(
    "--single-class",
    default=None,
    help="Merge every class into this one (e.g. 'face' from the face-mask classes).",
)
@click.option(
    "--init-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Start from the weights of an ultralytics ONNX export (fp32 or int8) of the "
    "--model architecture, e.g. ../shared/models/coco/yolo11n_int8_320.onnx.",
)
@click.option(
    "--hours",
    type=click.FloatRange(0.0, min_open=True),
    default=None,
    help="Stop after this much training time whatever --epochs says.",
)
@click.option("--device", default="cpu", show_default=True, help="cpu, or a CUDA device: 0")
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs/train"),
    show_default=True,
    help="Where ultralytics writes its run (prepared set, checkpoints, results.csv).",
)
def train_detector_cmd(
    data: Path,
    name: str | None,
    output: Path | None,
    model: str,
    epochs: int,
    imgsz: int,
    batch: int,
    holdout: float,
    seed: int,
    single_class: str | None,
    init_from: Path | None,
    hours: float | None,
    device: str,
    work_dir: Path,
) -> None:
    """Train a YOLO detector on a YOLO-format set and export it to ONNX."""
    from brightwatch.vision.training.detector import DetectorTraining, train_detector
    from brightwatch.vision.training.transfer import TransferError
    from brightwatch.vision.ultralytics_env import UltralyticsMissing
    from brightwatch.vision.yoloset import DatasetError

    settings = settings_from_env()
    if output is None:
        output = settings.data_dir / "models" / f"{name or data.resolve().name}.onnx"
    job = DetectorTraining(
        data=data,
        output=output,
        model=model,
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        holdout=holdout,
        seed=seed,
        single_class=single_class,
        init_from=init_from,
        time_limit_h=hours,
        device=device,
        work_dir=work_dir,
    )
    try:
        result = train_detector(job)
    except (UltralyticsMissing, DatasetError, TransferError) as exc:
        _fail(str(exc))
        return
    click.echo(f"model: {result.onnx}")
    click.echo(f"weights: {result.weights}")
    click.echo(f"record: {result.record}")
    for key, value in result.metrics.items():
        click.echo(f"  {key}: {value:.4f}")


@train.command(name="classifier")
@click.option(
    "--data",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="YOLO-format set whose boxes become the crops (e.g. ../shared/datasets/face_mask), or a folder of crops train/<label>/<picture> (the classify/ of `vision export-reviews`).",
)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .onnx to write; a .json with the held-out figures lands beside it.",
)
@click.option("--epochs", default=40, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--imgsz", default=64, show_default=True, type=click.IntRange(16, 512))
@click.option("--batch", default=64, show_default=True, type=click.IntRange(1, 4096))
@click.option("--lr", default=3e-3, show_default=True, type=click.FloatRange(0.0, min_open=True))
@click.option(
    "--holdout",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    help="Share of images held out (split by image) for the reported figures.",
)
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--crop-expand",
    default=1.25,
    show_default=True,
    type=click.FloatRange(1.0, 4.0),
    help="Boxes are widened by this factor around their centre before cropping.",
)
@click.option("--min-box", default=6, show_default=True, help="Skip boxes smaller than this (px).")
@click.option("--threads", type=click.IntRange(1, 256), default=None, help="torch threads.")
@click.option("--data-licence", default="", help="Licence of the training data (metadata).")
@click.option(
    "--headwear",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Share of training crops given a painted cap, hairnet or cloth above the face (hard negatives of the mask classifier).",
)
@click.option(
    "--degrade",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Share of training crops blurred, down-scaled, JPEG-compressed or smeared like a kitchen camera's faces.",
)
@click.option(
    "--part",
    type=click.Choice(["whole", "lower"]),
    default="whole",
    show_default=True,
    help="Part of each box cut out: lower = nose to chin of a face (what a mask covers; a cap never enters the crop).",
)
def train_classifier_cmd(
    data: Path,
    output: Path,
    epochs: int,
    imgsz: int,
    batch: int,
    lr: float,
    holdout: float,
    seed: int,
    crop_expand: float,
    min_box: int,
    threads: int | None,
    data_licence: str,
    headwear: float,
    degrade: float,
    part: str,
) -> None:
    """Train a crop classifier (e.g. mask / no mask) from the boxes of a YOLO-format set."""
    import shlex

    from brightwatch.vision.training.classifier import ClassifierTraining, train_classifier
    from brightwatch.vision.yoloset import DatasetError

    settings_from_env()
    try:
        import torch  # noqa: F401
    except ImportError:
        _fail("training a classifier needs torch (pip install 'brightwatch[ultralytics]')")
    command = "brightwatch " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    job = ClassifierTraining(
        data=data,
        output=output,
        imgsz=imgsz,
        epochs=epochs,
        batch=batch,
        lr=lr,
        holdout=holdout,
        seed=seed,
        crop_expand=crop_expand,
        min_box=min_box,
        threads=threads,
        headwear=headwear,
        degrade=degrade,
        part=part,
        command=command,
        data_licence=data_licence,
    )
    try:
        result = train_classifier(job)
    except (DatasetError, ValueError) as exc:
        _fail(str(exc))
        return
    click.echo(f"classifier: {result.onnx}")
    click.echo(f"record: {result.record}")
    summary = result.heldout
    click.echo(
        f"held-out crops {summary['crops']}: accuracy {summary['accuracy']:.3f}, "
        f"balanced accuracy {summary['balanced_accuracy']:.3f}, macro F1 {summary['macro_f1']:.3f}"
    )
    classes = summary["classes"]
    assert isinstance(classes, dict)
    for name, figures in classes.items():
        click.echo(
            f"  {name:<24} support {figures['support']:>4}  P {figures['precision']:.3f}  "
            f"R {figures['recall']:.3f}  F1 {figures['f1']:.3f}"
        )


def _scratch_detector_options(
    data_help: str, output: str, checkpoint: str, imgsz: int
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options of the detectors the project trains from scratch (`flame`, `face`)."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        options = [
            click.option(
                "--data",
                required=True,
                type=click.Path(exists=True, path_type=Path),
                help=data_help,
            ),
            click.option(
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                default=Path(output),
                show_default=True,
                help="The .onnx to write; the held-out figures go to the .json beside it.",
            ),
            click.option(
                "--minutes",
                default=30.0,
                show_default=True,
                type=click.FloatRange(0.1, 24 * 60),
                help="Wall-time budget of the training itself (the learning rate decays over it).",
            ),
            click.option(
                "--imgsz", default=imgsz, show_default=True, type=click.IntRange(64, 1280)
            ),
            click.option("--batch", default=16, show_default=True, type=click.IntRange(1, 512)),
            click.option("--seed", default=0, show_default=True),
            click.option(
                "--threads", default=None, type=click.IntRange(1, 256), help="torch threads."
            ),
            click.option(
                "--checkpoint",
                type=click.Path(dir_okay=False, path_type=Path),
                default=Path(checkpoint),
                show_default=True,
                help="Where the torch weights are kept (to re-export without retraining).",
            ),
            click.option(
                "--resume",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                default=None,
                help="Continue from a --checkpoint of an earlier run, or from an exported .onnx"
                " of this network (e.g. the shipped model), with its own --minutes budget.",
            ),
            click.option(
                "--lr", default=3e-3, show_default=True, type=click.FloatRange(0, 1, min_open=True)
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _train_scratch_detector(
    what: str,
    train: Callable[..., Any],
    cls: str,
    data: Path,
    output: Path,
    minutes: float,
    imgsz: int,
    batch: int,
    seed: int,
    threads: int | None,
    checkpoint: Path,
    resume: Path | None,
    lr: float,
) -> None:
    """Run one of the from-scratch trainings with a progress bar and print its figures."""
    from tqdm import tqdm

    from brightwatch.vision.training.flame import FlameTraining
    from brightwatch.vision.yoloset import DatasetError

    try:
        import torch  # noqa: F401
    except ImportError:
        _fail(f"training the {what} needs torch (pip install 'brightwatch[ultralytics]')")
    job = FlameTraining(
        data=data,
        output=output,
        minutes=minutes,
        imgsz=imgsz,
        crop=min(imgsz, 256 if imgsz <= 320 else 320),
        batch=batch,
        seed=seed,
        threads=threads,
        checkpoint=checkpoint,
        resume=resume,
        lr=lr,
        warmup_steps=20 if resume else 100,
    )
    with tqdm(total=round(minutes * 60), unit="s", desc="training") as bar:

        def progress(step: int, seconds: float, loss: float) -> None:
            bar.n = min(round(seconds), bar.total)
            bar.set_postfix(step=step, loss=f"{loss:.3f}", refresh=False)
            bar.refresh()

        try:
            result = train(job, progress)
        except DatasetError as exc:
            _fail(str(exc))
    click.echo(f"model: {result.output} ({result.record['shipped']})")
    click.echo(f"record: {result.output.with_suffix('.json')}")
    figures = result.held_out["classes"][cls]
    score = result.record.get("alarm_score", result.record.get("operating_score"))
    click.echo(
        f"held-out {cls}: AP50 {figures['AP50']:.3f}, at score {score}: "
        f"precision {figures['precision']:.3f}, recall {figures['recall']:.3f} "
        f"({figures['truths']} boxes); {result.steps} steps in {result.seconds / 60:.1f} min"
    )


@train.command(name="flame")
@_scratch_detector_options(
    "The fire_smoke set (YOLO format, classes Fire/default/smoke), e.g. "
    "../shared/datasets/fire_smoke; split by source video (vision.training.flame_split).",
    "models/fire_detector.onnx",
    "runs/train/flame.pt",
    320,
)
def train_flame_cmd(**options: Any) -> None:
    """Train the flame detector from scratch (plain torch, CPU) and export it to ONNX."""
    from brightwatch.vision.training.flame import train_flame

    _train_scratch_detector("flame detector", train_flame, "fire", **options)


@train.command(name="face")
@_scratch_detector_options(
    "The CC0 face set (YOLO format, every class a face), e.g. ../shared/datasets/face_mask; "
    "80/20 split by name hash (vision.yoloset.holdout_split, seed 0), the privacy check's.",
    "models/face_detector.onnx",
    "runs/train/face.pt",
    416,
)
def train_face_cmd(**options: Any) -> None:
    """Train the privacy filter's face detector from scratch (plain torch, CPU), export it
    to ONNX."""
    from brightwatch.vision.training.face_detector import train_face

    _train_scratch_detector("face detector", train_face, "face", **options)
