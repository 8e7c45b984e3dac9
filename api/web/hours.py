"""Is a site open now? Operating hours as the registry stores them (registry/models.py):
`[{"days": "mon-fri", "open": "06:00", "close": "22:00"}, ...]` in the site's time zone,
a `close` before `open` running past midnight into the next day. One reading for the
public page and the vision rules: vision/rules/schedule.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from brightwatch.vision.rules.schedule import day_set, in_hours

__all__ = ["day_set", "is_open"]


def is_open(hours: Iterable[Mapping[str, Any]], timezone: str, at: datetime) -> bool:
    """True when `at` (aware) falls in one of the windows. No hours registered: closed
    (nothing is shown to the public for a kitchen that has not said when it works)."""
    return in_hours(hours, timezone, round(at.timestamp() * 1000))
