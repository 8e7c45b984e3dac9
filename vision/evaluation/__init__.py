"""Evaluation of detectors (and detector + attribute classifier) against YOLO-format
labels: COCO-style mAP in numpy (`metrics`), running a model over a labelled set or a
labelled video (`runner`), PNG plots (`plots`), the set's split or the video an evaluation
reads (`sources`), and a whole evaluation from models to report folder (`jobs`, what
`brightwatch vision eval` runs). Independent of ultralytics on purpose: the figures mean
the same whatever backend produced the detections.

The per-frame pipeline is judged on the project's own labelled kitchen dev set
(`models/devset`): its labels and the recipe that rebuilds its pictures and their
CCTV-like variants from ../shared (`devset`, `variants`), and the scoring per person and
per code of what `vision assess` says (`pipeline`, `pipeline_report`; `vision eval
--pipeline`).
"""
