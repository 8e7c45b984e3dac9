"""Texts for people that alerts/ writes (notices, notifications, breach summaries), kept as
a catalogue message and its parameters until they are written out in the reader's language
and zone: one notice goes to receivers who may read different languages, and an instant
is only readable in a zone with its offset shown (`02:14 (+08:00)`, never bare UTC).

Catalogue codes stay verbatim: `Code("SMOKING")` reads `SMOKING 吸烟` in zh-CN and
`SMOKING` in English (the contract's catalogue has Chinese names only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from brightwatch.contract.codes import name_zh
from brightwatch.i18n import DEFAULT_LOCALE, DEFAULT_TIMEZONE, show, translate


@dataclass(frozen=True)
class Code:
    """A catalogue code, with its Chinese name beside it where the reader reads Chinese."""

    code: str

    def render(self, locale: str, zone: str = DEFAULT_TIMEZONE) -> str:
        return code_name(self.code, locale)


@dataclass(frozen=True)
class At:
    """An instant, shown in the reader's zone with the offset (`style`: i18n.timefmt.STYLES)."""

    at: datetime | None
    style: str = "minute"

    def render(self, locale: str, zone: str = DEFAULT_TIMEZONE) -> str:
        return show(self.at, zone, self.style) if self.at is not None else "-"


@dataclass(frozen=True)
class Words:
    """A catalogue message (an English msgid marked with `N_`) and its parameters."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, locale: str, zone: str = DEFAULT_TIMEZONE) -> str:
        values = {k: written(v, locale, zone) for k, v in self.params.items()}
        return (
            translate(locale, self.message, **values) if values else translate(locale, self.message)
        )


Text = str | Words | Code | At


def written(value: Any, locale: str = DEFAULT_LOCALE, zone: str = DEFAULT_TIMEZONE) -> str:
    """Any text or parameter as the reader reads it: words translated, codes with their
    names, instants in the zone; anything else as it is."""
    if isinstance(value, Words | Code | At):
        return value.render(locale, zone)
    if isinstance(value, datetime):
        return show(value, zone, "minute")
    return "" if value is None else str(value)


def code_name(code: str, locale: str) -> str:
    """`TRAPPED_OUT_ZONE 非平层困人` in Chinese, the code alone in English."""
    name = name_zh(code)
    if name is None or not locale.startswith("zh"):
        return code
    return f"{code} {name}"
