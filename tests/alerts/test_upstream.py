"""Upstream platform mappings (data files) and `brightwatch alerts export`."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from brightwatch.alerts.model import AlertSignal
from brightwatch.alerts.upstream.registry import (
    MappingError,
    builtin_platforms,
    load_mapping,
    platform,
)
from brightwatch.contract.codes import ELEVATOR_CATALOGUE
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store
from tests.brightwatch.test_cli import bw

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_every_catalogue_code_is_mapped_or_declared_unmapped() -> None:
    for m in builtin_platforms().values():
        for kind in m.kinds:
            assert kind == "elevator"
        assert m.covered() == set(ELEVATOR_CATALOGUE), m.name
        for code, why in m.unmapped.items():
            assert why.strip(), code


def test_gb2017_matches_the_spec_numbering() -> None:
    m = platform("gb2017")
    spec = {
        "SAFETY_CIRCUIT": "01", "DOOR_CLOSE_FAIL": "02", "DOOR_OPEN_FAIL": "03",
        "STOP_OUT_ZONE": "04", "UCM": "05", "RUNTIME_LIMITER": "06", "FLOOR_LOST": "07",
        "RESTART_BLOCK": "08", "OVERTRAVEL_TOP": "09", "OVERTRAVEL_BOTTOM": "10",
        "TRAPPED_OUT_ZONE": "11", "TRAPPED_IN_ZONE": "11", "ALARM_BUTTON": "90",
    }  # fmt: skip
    assert dict(m.codes) == spec
    # the catalogue's own column says the same
    for code, entry in ELEVATOR_CATALOGUE.items():
        if entry.upstream_2017 is not None:
            assert m.codes[code] == entry.upstream_2017, code
    assert sorted(m.mode_codes.values()) == [str(n) for n in range(40, 48)]
    assert m.upstream_code("MODE_CHANGE", {"rule": "inspection"}) == "41"
    assert m.upstream_code("MODE_CHANGE", {}) is None
    assert m.upstream_code("OVERSPEED") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('title = "x"', "name: a platform name is required"),
        ('name = "p"\n[codes]\nTRAPPED = "11"', "codes: not catalogue codes: TRAPPED"),
        (
            'name = "p"\n[codes]\nUCM = "05"\n[unmapped]\nUCM = "no"',
            "mapped and unmapped at once: UCM",
        ),
        ('name = "p"\n[mode_codes]\nparty = "48"', "mode_codes: not service modes: party"),
    ],
)
def test_a_wrong_mapping_file_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(MappingError, match=message):
        load_mapping(path)


def test_unknown_platform_lists_the_known_ones() -> None:
    with pytest.raises(MappingError, match="known: gb2017"):
        platform("nowhere")


def _fire(
    settings: Settings,
    device: str,
    code: str,
    severity: str,
    at: datetime,
    details: dict | None = None,
) -> None:  # type: ignore[type-arg]
    store = build_alert_store(settings)
    with psycopg.connect(settings.database_url.get_secret_value()) as conn, conn.transaction():
        store.apply_signal(
            conn,
            AlertSignal(
                kind="elevator", code=code, severity=severity, device_id=device, active=True,
                at=at, summary=f"{code} on {device}", details=details or {},
            ),
        )  # fmt: skip


def test_export_writes_upstream_codes_and_reports_unmapped_ones(
    settings: Settings, tmp_path: Path
) -> None:
    _fire(settings, "E1", "TRAPPED_OUT_ZONE", "P1", T0)
    _fire(settings, "E1", "SAFETY_CIRCUIT", "P2", T0 + timedelta(minutes=1))
    _fire(settings, "E2", "OVERSPEED", "P2", T0 + timedelta(minutes=2))
    _fire(settings, "E2", "MODE_CHANGE", "INFO", T0 + timedelta(minutes=3), {"rule": "fire_return"})
    _fire(settings, "E3", "UCM", "P1", T0 - timedelta(days=2))  # before --since
    env = {"BW_DATABASE_URL": settings.database_url.get_secret_value()}
    out = tmp_path / "alerts.jsonl"
    r = bw(
        "alerts",
        "export",
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-21",
        "--out",
        str(out),
        env=env,
    )
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(x["code"], x["upstream_code"], x["mapped"]) for x in rows] == [
        ("TRAPPED_OUT_ZONE", "11", True),
        ("SAFETY_CIRCUIT", "01", True),
        ("OVERSPEED", "", False),
        ("MODE_CHANGE", "42", True),
    ]
    assert rows[0]["platform"] == "gb2017" and rows[0]["name_zh"] == "非平层困人"
    assert "4 alert(s) for gb2017: 3 mapped" in r.stderr and "OVERSPEED x1" in r.stderr

    r = bw(
        "alerts",
        "export",
        "--since",
        "2026-11-18",
        "--until",
        "2026-11-21",
        "--format",
        "csv",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    table = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["code"], x["upstream_code"], x["mapped"]) for x in table][0] == ("UCM", "05", "true")
    assert len(table) == 5

    bad = bw(
        "alerts",
        "export",
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-21",
        "--platform",
        "x",
        env=env,
    )
    assert bad.returncode != 0 and "unknown platform 'x'" in bad.stderr


def test_a_platform_that_is_not_built_in_comes_from_its_mapping_file(
    settings: Settings, tmp_path: Path
) -> None:
    _fire(settings, "E1", "TRAPPED_IN_ZONE", "P1", T0)
    _fire(settings, "E1", "UCM", "P1", T0 + timedelta(minutes=1))
    mapping = tmp_path / "city.toml"
    mapping.write_text('name = "city"\n[codes]\nTRAPPED_IN_ZONE = "T-2"\n')
    env = {"BW_DATABASE_URL": settings.database_url.get_secret_value()}
    window = ("--since", "2026-11-20", "--until", "2026-11-21")
    r = bw("alerts", "export", *window, "--platform", "city", "--mapping", str(mapping), env=env)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(x["code"], x["upstream_code"]) for x in rows] == [
        ("TRAPPED_IN_ZONE", "T-2"),
        ("UCM", ""),
    ]
    assert "UCM x1" in r.stderr
    wrong = bw(
        "alerts", "export", *window, "--platform", "other", "--mapping", str(mapping), env=env
    )
    assert wrong.returncode != 0 and "defines platform 'city', not 'other'" in wrong.stderr
