"""Training: detectors with ultralytics (optional extra), attribute classifiers with torch.

`prepare` writes a training copy of a YOLO-format set (held-out split, optional class
merge) that ultralytics reads; `detector` trains and exports a YOLO detector; `classifier`
trains the small crop classifiers (mask) and exports them to ONNX. Nothing here runs in the
service: these are the tools behind `brightwatch vision train`.
"""
