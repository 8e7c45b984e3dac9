"""The detector backend registry: one table, open to new backends, checked by the settings
and the CLI, and lazy (nothing of a backend is imported before it is used)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from brightwatch.cli import main
from brightwatch.settings import Settings
from brightwatch.vision.detector import BACKENDS, Detection, DetectorError, load_detector
from brightwatch.vision.detector.spec import ModelSpec
from tests.support.fresh import run_fresh


class FixedDetector:
    """A backend of this test module: one box, whatever the image."""

    def __init__(self, path: str | Path, *, name: str | None = None, **_options: object) -> None:
        self.name = name or Path(path).stem
        self.version = "fixed"
        self.names: Sequence[str] = ("rat",)

    def detect(self, image: np.ndarray, conf: float | None = None) -> list[Detection]:
        return [Detection("rat", 0.9, (0.0, 0.0, 1.0, 1.0), 0)]

    def detect_batch(
        self, images: Sequence[np.ndarray], conf: float | None = None
    ) -> list[list[Detection]]:
        return [self.detect(image) for image in images]


@pytest.fixture
def fixed_backend(monkeypatch: pytest.MonkeyPatch) -> str:
    # what `@register_backend("fixed")` does, undone after the test
    monkeypatch.setitem(BACKENDS, "fixed", FixedDetector)
    return "fixed"


def test_a_registered_backend_is_accepted_by_the_settings_and_loaded(
    fixed_backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bw.toml"
    config.write_text(f'[vision.models.rats]\npath = "{tmp_path}"\nbackend = "{fixed_backend}"\n')
    monkeypatch.setenv("BW_CONFIG", str(config))
    models = Settings().vision.models
    assert models["rats"].backend == fixed_backend
    detector = load_detector("rats", models=models)
    assert isinstance(detector, FixedDetector) and detector.name == "rats"


def test_an_unknown_backend_is_refused_naming_the_registered_ones(
    fixed_backend: str, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError) as err:
        ModelSpec(path="m.onnx", backend="tensorrt")
    assert "no detector backend 'tensorrt'" in str(err.value)
    assert "registered: fixed, labels, onnx, openvino, ultralytics" in str(err.value)
    with pytest.raises(
        DetectorError, match="registered: fixed, labels, onnx, openvino, ultralytics"
    ):
        load_detector(str(tmp_path), backend="tensorrt")


def test_the_cli_refuses_an_unknown_backend_naming_the_registered_ones(
    fixed_backend: str, tmp_path: Path
) -> None:
    image = tmp_path / "frame.jpg"
    image.write_bytes(b"")
    done = CliRunner().invoke(main, ["vision", "detect", "--backend", "tensorrt", str(image)])
    assert done.exit_code == 2
    assert "no detector backend 'tensorrt'" in done.output
    assert "registered: fixed, labels, onnx, openvino, ultralytics" in done.output


def test_naming_a_backend_imports_nothing_of_it() -> None:
    # the service runs without torch: validating `backend = "ultralytics"` must not need it
    code = (
        "import sys\n"
        "from vision.detector.spec import ModelSpec\n"
        "ModelSpec(path='m.pt', backend='ultralytics')\n"
        "loaded = {'brightwatch.vision.detector.ultralytics_backend', 'ultralytics', 'torch'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    run_fresh(code)
