"""Thresholds: fleet defaults, per-elevator TOML overrides, the registry row on top."""

from __future__ import annotations

from pathlib import Path

import pytest

from brightwatch.elevators.settings import (
    ElevatorSettings,
    RegistryRow,
    ThresholdError,
    thresholds_for,
)
from brightwatch.settings import Settings, SettingsError, load_settings


def test_every_threshold_is_described() -> None:
    for name, field in ElevatorSettings.model_fields.items():
        assert field.title and field.description, name


def test_layers_fleet_then_toml_then_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bw.toml"
    config.write_text(
        """
[elevators]
trapped_out_zone_s = 25
offline_s = 300

[elevators.per_elevator."31010000000000000001"]
trapped_out_zone_s = 20
floor_max = 12
"""
    )
    monkeypatch.setenv("BW_CONFIG", str(config))
    monkeypatch.setenv("BW_ELEVATORS__STOP_OUT_ZONE_S", "12")
    settings = load_settings().elevators
    fleet = thresholds_for(settings, "OTHER")
    assert (fleet.trapped_out_zone_s, fleet.offline_s, fleet.stop_out_zone_s) == (25, 300, 12)
    one = thresholds_for(settings, "31010000000000000001")
    assert (one.trapped_out_zone_s, one.floor_max, one.offline_s) == (20, 12, 300)
    row = RegistryRow(
        floor_min=-2, floor_max=30, rated_speed=2.5, thresholds={"trapped_out_zone_s": 15}
    )
    registered = thresholds_for(settings, "31010000000000000001", row)
    assert (registered.trapped_out_zone_s, registered.floor_max, registered.floor_min) == (
        15,
        30,
        -2,
    )
    assert registered.rated_speed_m_s == 2.5


def test_bad_per_elevator_threshold_names_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bw.toml"
    config.write_text('[elevators.per_elevator."E1"]\ntrapped_out_zone_s = -3\n')
    monkeypatch.setenv("BW_CONFIG", str(config))
    with pytest.raises(SettingsError, match="E1: trapped_out_zone_s"):
        load_settings()
    config.write_text('[elevators.per_elevator."E1"]\ntrapped_secs = 3\n')
    with pytest.raises(SettingsError, match="unknown thresholds trapped_secs"):
        load_settings()


def test_bad_registry_thresholds_are_an_error_naming_the_elevator() -> None:
    with pytest.raises(ThresholdError, match="E9: offline_s"):
        thresholds_for(ElevatorSettings(), "E9", RegistryRow(thresholds={"offline_s": 0}))
    with pytest.raises(ThresholdError, match="E9"):
        thresholds_for(ElevatorSettings(), "E9", RegistryRow(thresholds={"nonsense": 1}))


def test_unknown_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="not catalogue codes: TRAPPED"):
        Settings(elevators={"disabled": ["TRAPPED"]})
