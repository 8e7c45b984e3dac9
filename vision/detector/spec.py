"""How a model is configured (`[vision.models.<name>]` in the settings TOML) and how a
model name (`BW_MODEL`) is resolved to a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from brightwatch.vision.detector.base import DetectorError, check_backend

REPO_ROOT = Path(__file__).resolve().parents[2]
# The project's own small committed weights (see models/README.md).
PROJECT_MODELS = REPO_ROOT / "models"
# ../shared beside the checkout (developer machines and CI); absent elsewhere.
SHARED_MODELS = REPO_ROOT.parent / "shared" / "models"

# Names that work with no configuration, each with the files tried in order after
# BW_DATA_DIR/models/<name>.onnx: `coco` is the COCO-80 detector (person, cell phone,
# cat, dog, ...) shipped beside the project in ../shared: yolo11n as a static int8
# OpenVINO IR at 640 px (run by OpenVINO Runtime: as fast per frame as the 320 px ONNX
# export under ONNX Runtime, and it sees the staff of a full-HD kitchen frame; see
# bench/RESULTS.md "Default detector"), else the 320 px int8 ONNX export; `fire` is the
# project's flame detector (fire, smoke), trained from scratch on CC BY 4.0 data
# (models/fire_detector.md).
BUILTIN_MODELS: dict[str, tuple[Path, ...]] = {
    "coco": (
        SHARED_MODELS / "coco" / "yolo11n_int8_openvino_model",
        SHARED_MODELS / "coco" / "yolo11n_int8_320.onnx",
    ),
    "fire": (PROJECT_MODELS / "fire_detector.onnx",),
}
BUILTIN_CLASSIFIERS: dict[str, tuple[Path, ...]] = {
    "mask": (PROJECT_MODELS / "mask_classifier.onnx",),
}
MODEL_SUFFIXES = (".onnx", ".pt")


class ModelSpec(BaseModel):
    """One detector: its file, backend and thresholds."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        title="Model file",
        description="A .onnx file, an OpenVINO IR folder (*.xml + *.bin, e.g. an ultralytics *_openvino_model/), a .pt (ultralytics extra), or a label folder for the `labels` backend. Relative paths are taken from BW_DATA_DIR.",
    )
    backend: str | None = Field(
        None,
        title="Backend",
        description="Detector backend type key, one registered in vision.detector.base.BACKENDS (openvino, onnx, ultralytics, labels, ...); chosen from the file type and device when unset (.onnx and OpenVINO IR folders on the CPU -> openvino when the openvino package imports, else .onnx -> onnx; .onnx with device cuda -> onnx; a folder of label files -> labels; anything else -> ultralytics).",
    )
    conf: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        title="Minimum score",
        description="Detections scoring below this are dropped (unless the class has its own minimum).",
    )
    class_scores: dict[str, float] = Field(
        default_factory=dict,
        title="Minimum score per class",
        description="Class name -> minimum score, overriding `conf` for that class (kitchens.md: scores below the class's minimum are dropped).",
    )
    iou: float = Field(
        0.45, gt=0.0, le=1.0, title="NMS IoU", description="Overlap above which NMS drops a box."
    )
    imgsz: int | None = Field(
        None,
        ge=32,
        le=4096,
        title="Input size",
        description="Square input side for models with a dynamic input; fixed inputs keep their own size.",
    )
    rect: bool = Field(
        False,
        title="Frame-shaped input",
        description="Run each frame at its own aspect (the longer side the model's input size, the shorter rounded up to a multiple of 32: 640 x 384 for a 16:9 camera) instead of letterboxed into the square: about a third less CPU per 16:9 frame. OpenVINO backend, YOLOv8/11 detectors; others keep the square. Off by default: on the kitchen dev set it found 2.7 points fewer persons (models/README.md).",
    )
    device: Literal["cpu", "cuda", "auto"] = Field(
        "cpu",
        title="Device",
        description="cuda runs an .onnx model with ONNX Runtime's CUDA execution provider when it has it (else the CPU, with a warning); auto picks it when present, else OpenVINO on the CPU.",
    )
    threads: int | None = Field(
        None,
        ge=1,
        le=256,
        title="Intra-op threads",
        description="Threads per run: OpenVINO INFERENCE_NUM_THREADS, ONNX Runtime intra-op threads (default: one per core).",
    )
    names: list[str] | None = Field(
        None,
        title="Class names",
        description="Override for models whose metadata has no class names.",
    )

    @field_validator("backend")
    @classmethod
    def _registered_backend(cls, value: str | None) -> str | None:
        return value if value is None else check_backend(value)

    @field_validator("class_scores")
    @classmethod
    def _check_scores(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"scores must be within 0..1: {bad}")
        return value

    def options(self) -> dict[str, object]:
        """Keyword options for the backend factory."""
        return self.model_dump(exclude={"path", "backend"}, exclude_none=True)


def runnable(path: Path) -> bool:
    """Whether a built-in default runs here on the service's own dependencies (no torch,
    so not through ultralytics); when not (the OpenVINO IR without the openvino
    package), the next file of the default is taken."""
    from brightwatch.vision.detector.base import backend_available
    from brightwatch.vision.detector.loading import backend_for

    chosen = backend_for(path)
    return chosen != "ultralytics" and backend_available(chosen)


def resolve(
    spec: str,
    *,
    models: Mapping[str, ModelSpec] | None = None,
    data_dir: Path | None = None,
    builtin: Mapping[str, tuple[Path, ...]] = BUILTIN_MODELS,
    what: str = "model",
) -> tuple[str, ModelSpec]:
    """(name, spec) for `BW_MODEL`-like input: a configured name, a file, or a name
    found as `<data_dir>/models/<name>.onnx|.pt` or among the built-in defaults."""
    if models and spec in models:
        configured = models[spec]
        path = Path(configured.path).expanduser()
        if not path.is_absolute() and data_dir is not None and not path.exists():
            path = data_dir / path
        return spec, configured.model_copy(update={"path": str(path)})
    tried: list[Path] = []
    direct = Path(spec).expanduser()
    if direct.exists():
        return direct.stem, ModelSpec(path=str(direct))
    tried.append(direct)
    if "/" not in spec and not direct.suffix:
        candidates: list[Path] = []
        if data_dir is not None:
            candidates += [data_dir / "models" / f"{spec}{suffix}" for suffix in MODEL_SUFFIXES]
        candidates += list(builtin.get(spec, ()))
        for candidate in candidates:
            if candidate.exists() and (
                candidate not in builtin.get(spec, ()) or runnable(candidate)
            ):
                return spec, ModelSpec(path=str(candidate))
            tried.append(candidate)
    configured_names = ", ".join(sorted(models or {})) or "none"
    raise DetectorError(
        f"no {what} {spec!r}: not a configured name (configured: {configured_names}) "
        f"and none of these exist: {', '.join(str(t) for t in tried)}"
    )
