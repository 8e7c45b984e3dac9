"""A registered camera that never connects raises CAMERA_OFFLINE once its silence since
registration reaches `offline_after_s`, within the site's operating hours only
(kitchens.md; issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime

from brightwatch.contract.codes import CAMERA_OFFLINE
from brightwatch.vision.rules.config import CameraConfig
from brightwatch.vision.rules.engine import next_due, tick
from brightwatch.vision.rules.state import new_state

# 10:00 Shanghai time on a Monday (02:00 UTC)
REGISTERED = int(datetime(2026, 3, 2, 2, 0, tzinfo=UTC).timestamp() * 1000)
S = 1000


def config(registered_at: int | None, hours: tuple[dict[str, str], ...]) -> CameraConfig:
    return CameraConfig(
        site_id="K1",
        camera_id="c1",
        timezone="Asia/Shanghai",
        operating_hours=hours,
        offline_after_s=300,
        registered_at=registered_at,
    )


LUNCH = ({"days": "daily", "open": "09:00", "close": "14:00"},)  # open at REGISTERED
EVENING = ({"days": "daily", "open": "17:00", "close": "22:00"},)  # closed at REGISTERED


def test_silence_since_registration_raises_offline_inside_hours() -> None:
    cfg = config(REGISTERED, LUNCH)
    st = new_state()
    assert next_due(st, cfg, REGISTERED) == REGISTERED + 300 * S
    st, events = tick(st, cfg, REGISTERED + 299 * S)
    assert events == []
    st, events = tick(st, cfg, REGISTERED + 300 * S)
    assert [(e.code, e.active) for e in events] == [(CAMERA_OFFLINE, True)]
    assert events[0].details["never_connected"] is True
    assert st.offline == "silence"
    st, again = tick(st, cfg, REGISTERED + 900 * S)
    assert again == []  # raised once


def test_no_offline_outside_operating_hours() -> None:
    cfg = config(REGISTERED, EVENING)
    st, events = tick(new_state(), cfg, REGISTERED + 3600 * S)  # 11:00, closed
    assert events == []
    evening = REGISTERED + 7 * 3600 * S + 60 * S  # 17:01
    st, events = tick(st, cfg, evening)
    assert [e.code for e in events] == [CAMERA_OFFLINE]


def test_without_registration_time_nothing_is_assumed() -> None:
    st, events = tick(new_state(), config(None, LUNCH), REGISTERED + 86_400 * S)
    assert events == [] and next_due(new_state(), config(None, LUNCH), REGISTERED) is None


def test_a_frame_after_registration_counts_from_the_frame() -> None:
    st = new_state()
    st.last_seen = REGISTERED + 200 * S
    cfg = config(REGISTERED, LUNCH)
    st, events = tick(st, cfg, REGISTERED + 400 * S)
    assert events == []
    assert next_due(st, cfg, REGISTERED + 400 * S) == REGISTERED + 500 * S
