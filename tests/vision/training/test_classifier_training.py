"""Training a crop classifier end to end on a tiny synthetic set (red vs blue squares)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brightwatch.vision.classify import load_classifier
from brightwatch.vision.training.classifier import ClassifierTraining, train_classifier
from tests.vision.synthetic import yolo_set

pytest.importorskip("torch")


def test_trains_exports_and_reports_held_out_figures(tmp_path: Path) -> None:
    images = {}
    for i in range(30):
        boxes = [(0, 0.25, 0.3, 0.3, 0.3), (1, 0.7, 0.7, 0.3, 0.3)]
        images[f"{i:02d}.jpg"] = (96, 96, boxes)
    root = yolo_set(tmp_path / "set", images, ["red", "blue"])
    output = tmp_path / "out" / "colour.onnx"
    result = train_classifier(
        ClassifierTraining(
            data=root,
            output=output,
            imgsz=32,
            epochs=6,
            batch=16,
            threads=1,
            command="test",
            data_licence="CC0",
        )
    )
    record = json.loads(result.record.read_text())
    assert record["train_images"] == 24 and record["heldout_images"] == 6
    assert record["heldout"]["crops"] == 12
    assert result.heldout["accuracy"] >= 0.9
    model = load_classifier(str(output))
    assert model.names == ("red", "blue") and model.input_size == (32, 32)
    meta = model.session.get_modelmeta().custom_metadata_map
    assert meta["data_license"] == "CC0" and meta["command"] == "test"
