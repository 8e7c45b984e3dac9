"""Retention sweep: expired evidence rows and files go, evidence of open cases stays,
archived frame days past the raw-frame period go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from brightwatch.alerts.evidence import records as store
from brightwatch.alerts.evidence.retention import sweep_evidence, sweep_frames
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store
from tests.review.support import jpeg, raise_violation

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
KEEP = timedelta(days=15)


def _save(
    conn: psycopg.Connection,
    data_dir: Path,
    seed: int,
    at: datetime,
    alert_id: int | None,
    until: datetime | None,
) -> Path:  # type: ignore[type-arg]
    s = store.save(
        conn,
        data_dir,
        site_id="K1",
        camera_id="cam1",
        ts_ms=int(at.timestamp() * 1000),
        jpeg=jpeg(seed),
        width=320,
        height=240,
        code="RODENT",
        boxes=[],
        model="m@1",
        zone=None,
        rule=None,
        alert_id=alert_id,
        retained_until=until,
    )
    return data_dir / s.path


def test_sweep_keeps_open_cases_and_deletes_the_expired(settings: Settings) -> None:
    data_dir = Path(settings.data_dir)
    old = NOW - timedelta(days=40)
    with psycopg.connect(settings.database_url.get_secret_value(), autocommit=True) as conn:
        alerts = build_alert_store(settings)
        case = raise_violation(conn, alerts, "RODENT", "K1", "cam1", "T1", old)
        assert case is not None and case.alert.id is not None  # a review case is open
        open_case = _save(conn, data_dir, 1, old, case.alert.id, None)
        expired = _save(conn, data_dir, 2, old, None, NOW - timedelta(seconds=1))
        still = _save(conn, data_dir, 3, old, None, NOW + timedelta(days=300))
        orphan_old = _save(conn, data_dir, 4, old, None, None)  # never linked to an alert
        orphan_new = _save(conn, data_dir, 5, NOW - timedelta(days=1), None, None)
        assert sweep_evidence(conn, data_dir, NOW, KEEP) == 2
        left = {r[0] for r in conn.execute("SELECT path FROM evidence").fetchall()}
    assert {data_dir / p for p in left} == {open_case, still, orphan_new}
    assert open_case.exists() and still.exists() and orphan_new.exists()
    assert not expired.exists() and not orphan_old.exists()


def test_sweep_frames_by_day(tmp_path: Path) -> None:
    for day in ("20261101", "20261106", "20261108", "20261122"):
        folder = tmp_path / "frames" / "K1" / "cam1" / day
        folder.mkdir(parents=True)
        (folder / "1.jpg").write_bytes(b"x")
    assert sweep_frames(tmp_path, NOW, KEEP) == 2  # before 2026-11-07
    days = sorted(p.name for p in (tmp_path / "frames" / "K1" / "cam1").iterdir())
    assert days == ["20261108", "20261122"]
