"""The detector interface shared by the vision worker, the camera agent and the tools."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from brightwatch.vision.detector.spec import ModelSpec


class DetectorError(RuntimeError):
    """A model that cannot be found, loaded or run; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Detection:
    label: str  # class name from the model's own metadata
    score: float  # 0..1
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the input image
    class_id: int = -1


class Detector(Protocol):
    name: str  # model name
    version: str  # model version (metadata, or a short content hash of the file)
    names: Sequence[str]  # class names by class id

    def detect(self, image: np.ndarray, conf: float | None = None) -> list[Detection]:
        """Objects in one BGR image (H x W x 3, uint8), best score first."""
        ...

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        """Several images at once where the backend gains from it."""
        ...


BackendFactory = Callable[..., Detector]

# Every detector backend, by type key: a factory, or where to find one ("module:attribute"),
# imported on first use. The one place a backend is registered (a backend is a module with a
# class taking `(path, **options)`, plus its line here); settings and the CLI accept exactly
# these keys. Lazy because the ultralytics backend needs torch, which the service lacks.
BACKENDS: dict[str, BackendFactory | str] = {
    "openvino": "brightwatch.vision.detector.openvino_backend:OpenVinoDetector",
    "onnx": "brightwatch.vision.detector.onnx_backend:OnnxDetector",
    "ultralytics": "brightwatch.vision.detector.ultralytics_backend:UltralyticsDetector",
    "labels": "brightwatch.vision.detector.labels_backend:LabelReplay",
}


def register_backend(type_key: str) -> Callable[[BackendFactory], BackendFactory]:
    """Register a backend defined outside this package (a site's own, a test's)."""

    def register(factory: BackendFactory) -> BackendFactory:
        BACKENDS[type_key] = factory
        return factory

    return register


def check_backend(type_key: str) -> str:
    """The key, or ValueError naming the registered ones (settings and CLI validation)."""
    if type_key not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise ValueError(f"no detector backend {type_key!r} (registered: {known})")
    return type_key


def backend_factory(type_key: str) -> BackendFactory:
    """The registered factory, importing its module on first use."""
    try:
        found = BACKENDS[check_backend(type_key)]
    except ValueError as exc:
        raise DetectorError(str(exc)) from None
    if isinstance(found, str):
        module, _, attribute = found.partition(":")
        found = BACKENDS[type_key] = getattr(importlib.import_module(module), attribute)
    return found


def backend_available(type_key: str) -> bool:
    """Whether a registered backend can run here: its module imports, and its
    `available()` says yes when the module has one (a runtime package that may be absent)."""
    found = BACKENDS.get(type_key)
    if found is None:
        return False
    module = found.partition(":")[0] if isinstance(found, str) else found.__module__
    try:
        imported = importlib.import_module(module)
    except ImportError:
        return False
    check = getattr(imported, "available", None)
    return bool(check()) if callable(check) else True


def load_detector(spec: str | ModelSpec, *, backend: str | None = None, **options: Any) -> Detector:
    """A detector from a model file, a configured or built-in model name (`coco`), or a
    `ModelSpec`; the backend is chosen by file type unless given. Name resolution uses
    `models=` (VisionSettings.models) and `data_dir=` (BW_DATA_DIR) when passed; other
    options (conf, class_scores, imgsz, device, threads, names, ...) go to the backend."""
    from brightwatch.vision.detector import loading

    return loading.load(spec, backend=backend, **options)


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute classifier's verdict on a crop (e.g. "no_mask" 0.93)."""

    label: str
    score: float


class AttributeClassifier(Protocol):
    """Second stage of the two-stage pattern: a person or head crop -> attribute."""

    name: str
    version: str
    names: Sequence[str]

    def classify(self, crops: Sequence[np.ndarray]) -> list[Attribute]:
        """The best label and its score for each BGR crop."""
        ...
