from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from brightwatch.api.web.hours import day_set, is_open

SH = ZoneInfo("Asia/Shanghai")
LUNCH_DINNER = [
    {"days": "mon-fri", "open": "10:00", "close": "14:00"},
    {"days": "fri,sat", "open": "17:00", "close": "02:00"},
]
CASES = [
    # (local time, hours, expected)
    ("2026-11-20 12:00", LUNCH_DINNER, True),  # Friday lunch
    ("2026-11-20 15:00", LUNCH_DINNER, False),  # Friday afternoon break
    ("2026-11-21 01:30", LUNCH_DINNER, True),  # Saturday night, Friday's dinner runs on
    ("2026-11-22 01:30", LUNCH_DINNER, True),  # Sunday night, Saturday's dinner runs on
    ("2026-11-23 01:30", LUNCH_DINNER, False),  # Monday night: no Sunday dinner
    ("2026-11-22 12:00", LUNCH_DINNER, False),  # Sunday lunch
    ("2026-11-22 12:00", [{"days": "daily", "open": "00:00", "close": "24:00"}], True),
    ("2026-11-22 23:59", [{"days": "daily", "open": "06:00", "close": "24:00"}], True),
    ("2026-11-22 05:59", [{"days": "daily", "open": "06:00", "close": "22:00"}], False),
    ("2026-11-22 22:00", [{"days": "daily", "open": "06:00", "close": "22:00"}], False),
    ("2026-11-22 12:00", [], False),  # no hours registered: closed
]


@pytest.mark.parametrize(("local", "hours", "expected"), CASES)
def test_is_open(local: str, hours: list[dict[str, str]], expected: bool) -> None:
    at = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=SH)
    assert is_open(hours, "Asia/Shanghai", at) is expected


def test_time_zone_is_the_sites() -> None:
    at = datetime(2026, 11, 20, 4, 0, tzinfo=ZoneInfo("UTC"))  # 12:00 in Shanghai
    hours = [{"days": "daily", "open": "10:00", "close": "14:00"}]
    assert is_open(hours, "Asia/Shanghai", at)
    assert not is_open(hours, "Europe/London", at)  # 04:00 there


def test_day_ranges_wrap() -> None:
    assert day_set("fri-mon") == {4, 5, 6, 0}
    assert day_set("sat,sun") == {5, 6}
    assert day_set("daily") == set(range(7))
