"""The [vision] settings: partial tables merge onto the defaults, errors name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from brightwatch.settings import Settings, SettingsError, load_settings

EXAMPLE = """
[vision]
detectors = ["rat"]
[vision.classes.bureau_kitchen]
chef_hat_missing = {code = "NO_HAT", min_score = 0.5}
mobile = {code = "PHONE", near = "person", region = "upper"}
[vision.rules.PHONE]
min_duration_s = 5
[vision.cameras."K001/cam1"]
zones = [{name = "wok", kind = "station", polygon = [[0, 0.5], [0.5, 0.5], [0.5, 1], [0, 1]]}]
"""


def test_readme_example_merges_onto_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bw.toml"
    config.write_text(EXAMPLE)
    monkeypatch.setenv("BW_CONFIG", str(config))
    v = load_settings().vision
    assert v.detectors == ["rat"]
    assert v.rules["PHONE"].min_duration_s == 5 and v.rules["PHONE"].n == 3
    assert v.rules["RODENT"].require_motion  # untouched codes keep their defaults
    assert v.classes["bureau_kitchen"]["mobile"].code == "PHONE"
    assert v.classes["*"]["cell phone"].code == "PHONE"  # the defaults stay
    assert v.cameras["K001/cam1"].zones[0]["name"] == "wok"


@pytest.mark.parametrize(
    ("vision", "field"),
    [
        ({"rules": {"PHONES": {"n": 2}}}, "PHONES"),
        ({"classes": {"m": {"x": {"code": "NO_SHOES"}}}}, "NO_SHOES"),
        ({"rules": {"PHONE": {"n": 0}}}, "rules.PHONE.n"),
        ({"attributes": {"mask": {"classifier": "mask", "labels": {"a": "NOPE"}}}}, "NOPE"),
    ],
)
def test_bad_values_name_what_is_wrong(vision: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises((SettingsError, ValueError)) as err:
        Settings(vision=vision)
    assert field in str(err.value)
