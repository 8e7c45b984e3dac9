"""Settings of the kitchen vision worker (section `[vision]`, env `BW_VISION__...`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from vision.detector.spec import ModelSpec


class VisionSettings(BaseModel):
    """Detector backends, class-to-violation mappings, confirmation defaults, cameras."""

    models: dict[str, ModelSpec] = Field(
        default_factory=dict,
        title="Models",
        description="Named detectors ([vision.models.<name>]: path, backend, conf, class_scores, imgsz, device, threads, names); BW_MODEL may name one. Unconfigured names resolve to BW_DATA_DIR/models/<name>.onnx, then the built-in `coco`.",
    )
    classifiers: dict[str, ModelSpec] = Field(
        default_factory=dict,
        title="Attribute classifiers",
        description="Named crop classifiers ([vision.classifiers.<name>]: path, class_scores, device, threads); `mask` defaults to the project's models/mask_classifier.onnx.",
    )
