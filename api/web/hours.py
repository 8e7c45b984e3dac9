"""Is a site open now? Operating hours as the registry stores them (registry/models.py):
`[{"days": "mon-fri", "open": "06:00", "close": "22:00"}, ...]` in the site's time zone,
a `close` before `open` running past midnight into the next day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def day_set(spec: str) -> set[int]:
    """'daily', 'mon-fri', 'sat,sun', 'fri-mon' -> weekday numbers (Monday 0)."""
    spec = spec.lower().strip()
    if spec in ("daily", ""):
        return set(range(7))
    out: set[int] = set()
    for part in spec.split(","):
        ends = [DAYS.index(p.strip()) for p in part.split("-")]
        if len(ends) == 1:
            out.add(ends[0])
        else:
            d = ends[0]
            out.add(d)
            while d != ends[1]:
                d = (d + 1) % 7
                out.add(d)
    return out


def _hhmm(value: str) -> time | None:
    if value == "24:00":
        return None  # end of day
    h, m = value.split(":")
    return time(int(h), int(m))


def is_open(hours: Iterable[Mapping[str, Any]], timezone: str, at: datetime) -> bool:
    """True when `at` (aware) falls in one of the windows. No hours registered: closed
    (nothing is shown to the public for a kitchen that has not said when it works)."""
    local = at.astimezone(ZoneInfo(timezone))
    for w in hours:
        days = day_set(str(w.get("days", "daily")))
        opens, closes = _hhmm(str(w["open"])), _hhmm(str(w["close"]))
        if opens is None:
            continue
        now = local.time().replace(tzinfo=None)
        today = local.weekday()
        if closes is None or closes > opens:  # same-day window
            if today in days and now >= opens and (closes is None or now < closes):
                return True
        elif closes == opens:  # round the clock on those days
            if today in days:
                return True
        else:  # past midnight: opens on a listed day, closes the next morning
            if today in days and now >= opens:
                return True
            yesterday = (local - timedelta(days=1)).weekday()
            if yesterday in days and now < closes:
                return True
    return False


def describe(hours: Iterable[Mapping[str, Any]]) -> str:
    parts = [f"{w.get('days', 'daily')} {w['open']}–{w['close']}" for w in hours]
    return ", ".join(parts) or "not registered"
