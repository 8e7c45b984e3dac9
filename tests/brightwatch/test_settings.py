from pathlib import Path

import pytest

from brightwatch.settings import SettingsError, load_settings, redact_url


def test_defaults_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_TOPIC_ROOT", "city/sz")
    monkeypatch.setenv("BW_INGEST__BATCH_SIZE", "250")
    s = load_settings()
    assert s.topic_root == "city/sz" and s.ingest.batch_size == 250
    assert s.http_host == "127.0.0.1" and s.http_port == 8000
    assert s.unknown_devices == "quarantine"


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("BW_DATABASE_URL", "mysql://x", "BW_DATABASE_URL"),
        ("BW_MQTT_URL", "http://broker", "BW_MQTT_URL"),
        ("BW_HTTP_ADDR", "8000", "BW_HTTP_ADDR"),
        ("BW_UNKNOWN_DEVICES", "maybe", "BW_UNKNOWN_DEVICES"),
        ("BW_TOPIC_ROOT", "bw/#", "BW_TOPIC_ROOT"),
        ("BW_SHARE_GROUP", "a/b", "BW_SHARE_GROUP"),
        ("BW_INGEST__BATCH_SIZE", "0", "BW_INGEST__BATCH_SIZE"),
        ("BW_NO_SUCH_THING", "1", None),
    ],
)
def test_wrong_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, named: str | None
) -> None:
    monkeypatch.setenv(var, value)
    if named is None:  # unknown BW_ variables are ignored by pydantic-settings' env source
        load_settings()
        return
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert named in str(err.value)


def test_secret_urls_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_DATABASE_URL", "postgresql://bw:hunter2@db/bw")
    s = load_settings()
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.model_dump())
    assert redact_url(s.database_url.get_secret_value()) == "postgresql://bw:***@db/bw"
    monkeypatch.setenv("BW_DATABASE_URL", "postgresql://bw:hunter2@db:x/bw")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "hunter2" not in str(err.value)


def test_toml_file_and_env_priority(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "bw.toml"
    cfg.write_text('topic_root = "from-file"\nshare_group = "g1"\n[ingest]\nbatch_size = 77\n')
    monkeypatch.setenv("BW_CONFIG", str(cfg))
    monkeypatch.setenv("BW_SHARE_GROUP", "from-env")
    s = load_settings()
    assert (s.topic_root, s.share_group, s.ingest.batch_size) == ("from-file", "from-env", 77)


def test_toml_errors_are_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BW_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="no such file"):
        load_settings()
    bad = tmp_path / "bad.toml"
    bad.write_text("[ingest]\nbatch_size = 'many'\n")
    monkeypatch.setenv("BW_CONFIG", str(bad))
    with pytest.raises(SettingsError, match=r"BW_INGEST__BATCH_SIZE \(\[ingest\] batch_size\)"):
        load_settings()
    typo = tmp_path / "typo.toml"  # a misspelt key is refused, named as it is written
    typo.write_text("[vision]\nthreds = 2\n")
    monkeypatch.setenv("BW_CONFIG", str(typo))
    with pytest.raises(SettingsError, match=r"BW_VISION__THREDS \(\[vision\] threds\): Extra"):
        load_settings()
    broken = tmp_path / "broken.toml"
    broken.write_text("[ingest\n")
    monkeypatch.setenv("BW_CONFIG", str(broken))
    with pytest.raises(SettingsError, match="configuration error"):
        load_settings()


def test_language_and_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BW_LOCALE", "BW_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert (s.locale, s.timezone) == ("zh-CN", "Asia/Shanghai")
    monkeypatch.setenv("BW_LOCALE", "en_GB")
    monkeypatch.setenv("BW_TIMEZONE", "Europe/Berlin")
    s = load_settings()
    assert (s.locale, s.timezone) == ("en", "Europe/Berlin")
    monkeypatch.setenv("BW_LOCALE", "fr")
    with pytest.raises(SettingsError, match="BW_LOCALE: .*zh-CN, en"):
        load_settings()
    monkeypatch.setenv("BW_LOCALE", "zh")
    monkeypatch.setenv("BW_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="BW_TIMEZONE: .*unknown time zone"):
        load_settings()
