"""Kitchen vision: detectors and violation rules for "Internet + bright kitchen".

- `detector/`: the `Detector` / `AttributeClassifier` interfaces and the backends behind
  them (ONNX Runtime by default, ultralytics behind the optional extra, `labels` replay);
  model specs and name resolution (`BW_MODEL`).
- `classify/`: attribute classifiers on crops (mask / no mask ...), crop helpers.
- `evaluation/`: mAP, P/R, confusion matrices and plots against YOLO-format labels.
- `training/`: ultralytics detector training, crop classifier training, quantisation,
  start weights from ONNX exports (offline tools behind `brightwatch vision train`).
- `yoloset.py`, `frames.py`, `boxes.py`: labelled sets, frame sources, box arithmetic.
- `worker.py`: the camera topics into rule steps; it decides which frames become evidence
  (a violation's first and confirming frames) and hands them to `alerts.evidence`, which
  stores, serves and expires them.

May import: contract, alerts (signals, store, evidence), db, mqttlink, registry
(auto-registration), numpy, OpenCV, ONNX Runtime, prometheus-client; ultralytics and torch
only inside the training tools and the ultralytics backend, imported lazily (the service
runs without them).
"""
