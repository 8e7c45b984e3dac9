"""Kitchen vision: detectors, violation rules and evidence for "Internet + bright kitchen".

May import: contract, alerts (signals and store), db, mqttlink, numpy, OpenCV, ONNX Runtime
(ultralytics only behind the optional extra).
"""
