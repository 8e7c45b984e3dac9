"""Instants as a person reads them: in a zone (the deployment's `BW_TIMEZONE`, or a site's
own `timezone`), with the UTC offset shown, so that 18:14Z reads `02:14 (+08:00)` in
Shanghai and never as a bare, unlabelled "18:14"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
STYLES = {
    "second": "%Y-%m-%d %H:%M:%S",
    "minute": "%Y-%m-%d %H:%M",
    "short": "%m-%d %H:%M",
    "time": "%H:%M:%S",
    "hm": "%H:%M",
    "date": "%Y-%m-%d",
}


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def check_zone(name: str) -> str:
    """`name` if it is an IANA zone this machine knows; ValueError otherwise."""
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name, e.g. Asia/Shanghai)") from None
    return name


def local(at: datetime, tz: str = DEFAULT_TIMEZONE) -> datetime:
    """`at` in zone `tz`; a naive datetime is taken as UTC (the store's convention)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone(tz))


def offset(at: datetime) -> str:
    """`+08:00` for an aware datetime."""
    delta = at.utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def show(at: datetime | date | None, tz: str = DEFAULT_TIMEZONE, style: str = "second") -> str:
    """`at` in `tz` as text with its offset, e.g. `2026-12-07 02:14:00 (+08:00)`; a date
    (or style "date") has no offset; None is empty."""
    if at is None:
        return ""
    if not isinstance(at, datetime):
        return at.strftime(STYLES["date"])
    there = local(at, tz)
    text = there.strftime(STYLES[style])
    return text if style == "date" else f"{text} ({offset(there)})"
