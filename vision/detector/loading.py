"""Choosing and constructing a backend for a model spec (filled in by the detector work)."""

from __future__ import annotations

from typing import Any

from vision.detector.base import BACKENDS, Detector, DetectorError


def load(spec: str, *, backend: str | None = None, **options: Any) -> Detector:
    if backend is None:
        backend = "ultralytics" if spec.endswith(".pt") else "onnx"
    factory = BACKENDS.get(backend)
    if factory is None:
        raise DetectorError(
            f"no detector backend {backend!r} (known: {', '.join(BACKENDS) or 'none'})"
        )
    return factory(spec, **options)
