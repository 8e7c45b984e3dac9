"""Zones (bottom-centre rule), schedules, the tracker and the confirmation, case by case."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from brightwatch.vision.rules import schedule
from brightwatch.vision.rules.assess import Hit
from brightwatch.vision.rules.config import ConfirmRule
from brightwatch.vision.rules.confirm import observe
from brightwatch.vision.rules.tracker import TrackerParams, update
from brightwatch.vision.rules.zones import in_zone

HERE = Path(__file__).parent
ZONES = json.loads((HERE / "zone_cases.json").read_text())
HOURS = json.loads((HERE / "schedule_cases.json").read_text())


@pytest.mark.parametrize("case", ZONES, ids=[c["why"] for c in ZONES])
def test_zone(case: dict[str, Any]) -> None:
    w, h = case["size"]
    polygon = [tuple(p) for p in case["polygon"]]
    assert in_zone(tuple(case["box"]), w, h, polygon) is case["inside"]  # type: ignore[arg-type]


@pytest.mark.parametrize("case", HOURS, ids=[c["why"] for c in HOURS])
def test_schedule(case: dict[str, Any]) -> None:
    tz = "Asia/Shanghai"
    at = datetime.fromisoformat(case["local"]).replace(tzinfo=ZoneInfo(tz))
    assert schedule.in_hours(case["hours"], tz, int(at.timestamp() * 1000)) is case["in"]


def test_night_window_wraps_midnight() -> None:
    tz = "Asia/Shanghai"
    night = {"start": "22:00", "end": "06:00"}
    for local, want in (
        ("2026-11-22T23:00", True),
        ("2026-11-22T05:59", True),
        ("2026-11-22T12:00", False),
    ):
        at = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz))
        assert schedule.in_window(night, tz, int(at.timestamp() * 1000)) is want, local


def test_tracker_keeps_identity_by_overlap_and_by_centre() -> None:
    diag = 800.0
    tracks, ids, nxt = update(
        [], [("rat", 0.8, (100, 100, 140, 130)), ("person", 0.9, (300, 50, 400, 400))], 0, diag, 1
    )
    assert ids == [1, 2]
    # the rat moved 50 px (no overlap): matched by its centre; the person overlaps
    tracks, ids, nxt = update(
        tracks,
        [("person", 0.9, (305, 50, 405, 400)), ("rat", 0.7, (150, 100, 190, 130))],
        500,
        diag,
        nxt,
    )
    assert ids == [2, 1]
    rat = next(t for t in tracks if t.id == 1)
    assert rat.hits == 2 and rat.scores == [0.8, 0.7] and rat.travel == pytest.approx(50.0)
    # far away: a new rat
    tracks, ids, nxt = update(tracks, [("rat", 0.7, (700, 500, 740, 530))], 1000, diag, nxt)
    assert ids == [3]


def test_tracker_ends_tracks_after_missed_frames() -> None:
    p = TrackerParams(max_missed=2)
    tracks, ids, nxt = update([], [("rat", 0.8, (100, 100, 140, 130))], 0, 800.0, 1, p)
    for t in (500, 1000, 1500):
        tracks, _, nxt = update(tracks, [], t, 800.0, nxt, p)
    tracks, ids, nxt = update(tracks, [("rat", 0.8, (100, 100, 140, 130))], 2000, 800.0, nxt, p)
    assert ids == [2]


def test_labels_never_share_a_track() -> None:
    tracks, ids, nxt = update([], [("cat", 0.8, (100, 100, 140, 130))], 0, 800.0, 1)
    tracks, ids, nxt = update(tracks, [("rat", 0.8, (100, 100, 140, 130))], 500, 800.0, nxt)
    assert ids == [2]


def _hit(score: float = 0.8) -> Hit:
    return Hit("PHONE", "PHONE", score)


@pytest.mark.parametrize(
    ("pattern", "fires_at"),
    [
        ("11111", 3),  # 3 of 5 held at frame 2, 3 s reached at frame 3
        ("10101010", None),  # never 3 of the last 5 while held for 3 s... see below
        ("1101100000", 3),  # 3 of 4 held at frame 3, run since 0: 3 s
        ("1000000000", None),
        ("0000111100", 7),
    ],
)
def test_confirmation_n_of_m_and_duration(pattern: str, fires_at: int | None) -> None:
    rule = ConfirmRule(n=3, m=5, min_duration_s=3, median_score=0.4)
    c = None
    fired = []
    for k, ch in enumerate(pattern):
        out = observe(
            c, "PHONE", "PHONE", _hit() if ch == "1" else None, None, k * 1000, rule, False
        )
        c = out.candidate
        if out.fire:
            fired.append(k)
    if pattern == "10101010":
        # held at 0, 2, 4 (3 of 5 at frame 4, run since 0 -> 4 s): confirmed at frame 4
        assert fired == [4]
    else:
        assert fired == ([] if fires_at is None else [fires_at])


def test_confirmation_uses_the_median_score() -> None:
    rule = ConfirmRule(n=3, m=5, min_duration_s=0, median_score=0.5)
    c = None
    fired = False
    for k, score in enumerate([0.3, 0.35, 0.4, 0.45]):
        out = observe(c, "PHONE", "PHONE", _hit(score), None, k * 1000, rule, False)
        c, fired = out.candidate, fired or out.fire
    assert not fired
    out = observe(c, "PHONE", "PHONE", _hit(0.6), None, 5000, rule, False)
    assert out.fire


def test_next_due_wakes_the_ticker_only_when_something_can_happen() -> None:
    from brightwatch.vision.rules.engine import next_due, step
    from brightwatch.vision.rules.observations import FrameSeen
    from brightwatch.vision.rules.state import new_state
    from tests.vision.rules.harness import BASE, camera

    closed = camera({"operating_hours": [{"days": "daily", "open": "06:00", "close": "10:00"}]})
    st, _ = step(new_state(), FrameSeen(BASE, 640, 480, ()), closed)
    assert next_due(st, closed, BASE) == BASE + 300_000  # the silence deadline
    # past it while the kitchen is closed (12:00): looked at again in a minute, not now
    later = BASE + 400_000
    assert next_due(st, closed, later) == later + 60_000
    # a station empty in working hours: due when its 300 s are over
    station = {
        "name": "wok",
        "kind": "station",
        "polygon": [[0, 0.5], [0.5, 0.5], [0.5, 1], [0, 1]],
    }
    open_ = camera(
        {
            "zones": [station],
            "operating_hours": [{"days": "daily", "open": "00:00", "close": "24:00"}],
            "offline_after_s": 900,
        }
    )
    st = new_state()
    for k in range(3):
        st, _ = step(st, FrameSeen(BASE + k * 1000, 640, 480, ()), open_)
    assert next_due(st, open_, BASE + 3000) == BASE + 300_000
