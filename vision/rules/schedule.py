"""Opening, night and working hours, as the registry stores them (registry/models.py):
`[{"days": "mon-fri", "open": "06:00", "close": "22:00"}, ...]` and night hours
`{"start": "22:00", "end": "06:00"}`, local times in the site's time zone; a `close`
before `open` runs past midnight into the next day.

The public page reads opening hours with these functions too (api/web/hours.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=256)
def day_set(spec: str) -> frozenset[int]:
    """'daily', 'mon-fri', 'sat,sun', 'fri-mon' -> weekday numbers (Monday 0)."""
    spec = spec.lower().strip()
    if spec in ("daily", ""):
        return frozenset(range(7))
    out: set[int] = set()
    for part in spec.split(","):
        ends = [DAYS.index(p.strip()) for p in part.split("-")]
        d = ends[0]
        out.add(d)
        while len(ends) == 2 and d != ends[1]:
            d = (d + 1) % 7
            out.add(d)
    return frozenset(out)


def _hhmm(value: str) -> time | None:
    if value == "24:00":
        return None  # end of day
    h, m = value.split(":")
    return time(int(h), int(m))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(at_ms: int, timezone: str) -> datetime:
    return datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(_zone(timezone))


def in_hours(hours: Iterable[Mapping[str, Any]], timezone: str, at_ms: int) -> bool:
    """True when `at_ms` falls in one of the windows (none registered: False)."""
    t = local(at_ms, timezone)
    now = t.time().replace(tzinfo=None)
    today = t.weekday()
    yesterday = (t - timedelta(days=1)).weekday()
    for w in hours:
        days = day_set(str(w.get("days", "daily")))
        opens, closes = _hhmm(str(w["open"])), _hhmm(str(w["close"]))
        if opens is None:
            continue
        if closes is None or closes > opens:  # same-day window
            if today in days and now >= opens and (closes is None or now < closes):
                return True
        elif closes == opens:  # round the clock on those days
            if today in days:
                return True
        else:  # past midnight: opens on a listed day, closes the next morning
            if (today in days and now >= opens) or (yesterday in days and now < closes):
                return True
    return False


def in_window(window: Mapping[str, Any] | None, timezone: str, at_ms: int) -> bool:
    """Night hours `{"start": "22:00", "end": "06:00"}` (every day)."""
    if not window:
        return False
    return in_hours(
        [{"days": "daily", "open": window["start"], "close": window["end"]}], timezone, at_ms
    )
