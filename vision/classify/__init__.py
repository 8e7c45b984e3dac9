"""Attribute classifiers: the second stage of the two-stage pattern (a face, head or
person crop -> mask / hat / uniform), behind `vision.detector.base.AttributeClassifier`.

`load_classifier(spec)` takes a file, a configured name or the built-in `mask` (the
project's own `models/mask_classifier.onnx`); `crop_boxes` cuts crops the way the
classifier was trained (its metadata says by how much to widen the box).
"""

from brightwatch.vision.classify.crops import crop_boxes
from brightwatch.vision.classify.onnx_classifier import OnnxAttributeClassifier, load_classifier

__all__ = ["OnnxAttributeClassifier", "crop_boxes", "load_classifier"]
