"""Model names and files resolved to backends; settings of the model registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from brightwatch.settings import Settings
from brightwatch.vision.detector import DetectorError, load_detector, loading
from brightwatch.vision.detector.loading import backend_for
from brightwatch.vision.detector.spec import ModelSpec, resolve
from tests.vision.synthetic import constant_detector

ROWS = [[160, 160, 100, 50, 0.9]]


def test_a_file_path(tmp_path: Path) -> None:
    path = constant_detector(tmp_path / "kitchen_v2.onnx", ROWS, ["rat"])
    name, spec = resolve(str(path))
    assert (name, spec.path) == ("kitchen_v2", str(path))


def test_a_configured_name_with_a_path_relative_to_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    constant_detector(tmp_path / "models" / "r.onnx", ROWS, ["rat"])
    models = {"rats": ModelSpec(path="models/r.onnx", class_scores={"rat": 0.6})}
    detector = load_detector("rats", models=models, data_dir=tmp_path)
    assert detector.name == "rats"
    assert detector.class_scores == {"rat": 0.6}  # type: ignore[attr-defined]


def test_a_bare_name_found_in_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    constant_detector(tmp_path / "models" / "rat.onnx", ROWS, ["rat"])
    assert load_detector("rat", data_dir=tmp_path).names == ("rat",)


def test_the_data_dir_overrides_the_builtin_coco(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    constant_detector(tmp_path / "models" / "coco.onnx", ROWS, ["person"])
    assert load_detector("coco", data_dir=tmp_path).names == ("person",)


def test_an_unknown_name_says_what_was_tried(tmp_path: Path) -> None:
    with pytest.raises(DetectorError) as err:
        load_detector("rodents", models={"coco2": ModelSpec(path="x.onnx")}, data_dir=tmp_path)
    message = str(err.value)
    assert "configured: coco2" in message
    assert str(tmp_path / "models" / "rodents.onnx") in message


def test_builtin_coco_when_shared_is_present(tmp_path: Path) -> None:
    from tests.conftest import shared_path

    shared_path("models", "coco", "yolo11n_int8_320.onnx")
    detector = load_detector("coco", data_dir=tmp_path)
    assert detector.names[0] == "person" and "cell phone" in detector.names


@pytest.mark.parametrize(
    ("name", "device", "openvino", "backend"),
    [
        ("m.onnx", "cpu", True, "openvino"),
        ("m.ONNX", "cpu", True, "openvino"),
        ("m.onnx", "cpu", False, "onnx"),  # the fallback without the openvino package
        ("m.onnx", "cuda", True, "onnx"),  # GPUs: ONNX Runtime's CUDA provider
        ("m.pt", "cpu", True, "ultralytics"),
        ("m_openvino_model", "cpu", True, "openvino"),
        ("m_openvino_model", "cpu", False, "ultralytics"),
    ],
)
def test_backend_by_file_type_and_device(
    name: str, device: str, openvino: bool, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading, "backend_available", lambda key: openvino or key != "openvino")
    assert backend_for(Path(name), device) == backend


def test_unknown_backend(tmp_path: Path) -> None:
    path = constant_detector(tmp_path / "m.onnx", ROWS, ["a"])
    with pytest.raises(DetectorError, match="no detector backend 'tensorrt'"):
        load_detector(str(path), backend="tensorrt")


def test_model_registry_in_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "bw.toml"
    config.write_text(
        '[vision.models.rat]\npath = "/models/rat.onnx"\nconf = 0.3\n'
        "[vision.models.rat.class_scores]\nrat = 0.55\n"
    )
    monkeypatch.setenv("BW_CONFIG", str(config))
    settings = Settings()
    assert settings.vision.models["rat"].class_scores == {"rat": 0.55}
    assert settings.vision.models["rat"].options()["conf"] == 0.3


@pytest.mark.parametrize(
    "bad",
    [
        {"path": "m.onnx", "class_scores": {"rat": 1.5}},
        {"path": "m.onnx", "backend": "tensorrt"},
        {"path": "m.onnx", "conf": -0.1},
        {"path": "m.onnx", "colour": "red"},
    ],
)
def test_model_spec_validation(bad: dict) -> None:
    with pytest.raises(ValidationError):
        ModelSpec(**bad)
