"""Start-up refuses an MQTT notification target the broker's ACL would refuse: it must be a
topic of the contract's table that the service publishes, below {topic_root}."""

from __future__ import annotations

from pathlib import Path

import pytest

from brightwatch.alerts.channels.mqtt_target import check_target
from brightwatch.settings import SettingsError, load_settings


def _config(tmp_path: Path, target: str) -> Path:
    cfg = tmp_path / "bw.toml"
    cfg.write_text(
        f'[alerts.notify.receivers]\nops = [{{ channel = "mqtt", target = "{target}" }}]\n'
    )
    return cfg


@pytest.mark.parametrize(
    "target",
    [
        "{topic_root}/notify/{site_id}",
        "bw/notices/{site_id}",
        "{topic_root}/notices/+",
        "{topic_root}/#",
    ],
)
def test_an_undeclared_mqtt_target_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    monkeypatch.setenv("BW_CONFIG", str(_config(tmp_path, target)))
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert "BW_ALERTS__NOTIFY" in message and repr(target) in message
    assert "{topic_root}/notices/{site_id}" in message  # what would be accepted


@pytest.mark.parametrize(
    "target",
    [
        "{topic_root}/notices/{site_id}",
        "{topic_root}/notices/K1",
        "{topic_root}/tickets/{firm_id}/{ticket_id}",
    ],
)
def test_a_declared_mqtt_target_is_accepted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    monkeypatch.setenv("BW_CONFIG", str(_config(tmp_path, target)))
    settings = load_settings()
    assert settings.alerts.notify.receivers["ops"][0].target == target


def test_the_default_notice_receiver_passes_its_own_check() -> None:
    settings = load_settings()
    (integration,) = settings.alerts.notify.receivers["kitchen-operator"]
    assert check_target(integration.target) == "{topic_root}/notices/{site_id}"


def test_a_literal_root_gets_a_hint() -> None:
    with pytest.raises(ValueError, match=r"start it with \{topic_root\}"):
        check_target("bw/notices/{site_id}")
