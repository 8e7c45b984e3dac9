"""Retention (kitchens.md, Evidence): raw frames for `frame_retention_days` (15 by
default), evidence of reviewed violations until its case is closed plus a year (the
review desk sets `retained_until` then; NULL keeps it while the case is open), evidence
of codes nobody reviews (camera health) for the raw-frame period. Run periodically by
the vision component, which archives the frames."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

log = logging.getLogger(__name__)


def sweep_evidence(
    conn: psycopg.Connection[Any], data_dir: Path, now: datetime, frame_retention: timedelta
) -> int:
    """Delete expired evidence rows and then their files; returns the rows deleted."""
    with conn.transaction():
        paths = [
            r[0]
            for r in conn.execute(
                """
                DELETE FROM evidence e
                WHERE e.retained_until < %(now)s
                   -- never reviewed and its alert is over (a dismissed-in-cooldown repeat,
                   -- an alert resolved without a case): the raw-frame period applies
                   OR (e.retained_until IS NULL AND e.captured_at < %(cutoff)s
                       AND NOT EXISTS (SELECT 1 FROM review r WHERE r.alert_id = e.alert_id)
                       AND NOT EXISTS (SELECT 1 FROM alert a WHERE a.id = e.alert_id
                                       AND a.state <> 'resolved'))
                RETURNING e.path
                """,
                {"now": now, "cutoff": now - frame_retention},
            ).fetchall()
        ]
        still = {
            r[0]
            for r in conn.execute(
                "SELECT path FROM evidence WHERE path = ANY(%s)", (paths,)
            ).fetchall()
        }
    for rel in set(paths) - still:
        (data_dir / rel).unlink(missing_ok=True)
    return len(paths)


def sweep_frames(data_dir: Path, now: datetime, frame_retention: timedelta) -> int:
    """Delete archived frame days (frames/<site>/<camera>/<YYYYMMDD>/) past retention."""
    cutoff = (now - frame_retention).strftime("%Y%m%d")
    removed = 0
    root = data_dir / "frames"
    if not root.is_dir():
        return 0
    for day in root.glob("*/*/*"):
        if day.is_dir() and day.name.isdigit() and day.name < cutoff:
            shutil.rmtree(day, ignore_errors=True)
            removed += 1
    return removed
