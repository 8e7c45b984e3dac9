"""Detectors behind one small interface, registered by a type key (as Frigate's
`DetectionApi`): ONNX Runtime by default, ultralytics behind the optional extra, label
replay for tests. A backend is one module plus its line in `base.BACKENDS` (imported on
first use); the settings and the CLI accept the registered keys (`check_backend`).

`load_detector(spec)` returns a `Detector`; `Detector.detect(image)` returns
`Detection`s in the image's pixel coordinates with class names read from the model.
"""

from brightwatch.vision.detector.base import (
    BACKENDS,
    Attribute,
    AttributeClassifier,
    Detection,
    Detector,
    DetectorError,
    check_backend,
    load_detector,
    register_backend,
)

__all__ = [
    "BACKENDS",
    "Attribute",
    "AttributeClassifier",
    "Detection",
    "Detector",
    "DetectorError",
    "check_backend",
    "load_detector",
    "register_backend",
]
