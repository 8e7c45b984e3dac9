"""`brightwatch vision train detector` end to end with ultralytics, offline: one short
epoch on a tiny synthetic set, exported to ONNX and loaded by the default backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from brightwatch.vision.detector import load_detector
from tests.vision.synthetic import yolo_set

pytest.importorskip("ultralytics")
REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_train_detector_command(tmp_path: Path) -> None:
    images = {f"{i:02d}.jpg": (64, 64, [(0, 0.5, 0.5, 0.4, 0.4)]) for i in range(10)}
    root = yolo_set(tmp_path / "set", images, ["square"])
    output = tmp_path / "models" / "square.onnx"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BW_", "YOLO_"))}
    env["BW_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [
            sys.executable, "-m", "brightwatch", "vision", "train", "detector",
            "--data", str(root), "--output", str(output), "--epochs", "1", "--imgsz", "64",
            "--batch", "4", "--work-dir", str(tmp_path / "runs"),
        ],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"model: {output}" in done.stdout
    record = json.loads(output.with_suffix(".json").read_text())
    assert (record["train_images"], record["val_images"], record["classes"]) == (8, 2, ["square"])
    assert output.with_suffix(".pt").exists()
    detector = load_detector(str(output))
    assert detector.names == ("square",) and detector.input_size == (64, 64)  # type: ignore[attr-defined]
    # ultralytics was configured by us (offline, settings in our data folder), not by env
    assert (tmp_path / "data" / "ultralytics").is_dir()
