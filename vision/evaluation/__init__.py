"""Evaluation of detectors (and detector + attribute classifier) against YOLO-format
labels: COCO-style mAP in numpy (`metrics`), running a model over a labelled set or a
labelled video (`runner`), PNG plots (`plots`). Independent of ultralytics on purpose: the
figures mean the same whatever backend produced the detections.
"""
