"""The language and time zone of one rendered page, and the Jinja side of the catalogue.

A person's language comes from, first to last: `?lang=` (a link), the `bw_lang` cookie
the language menu sets (remembered for a year), the deployment's `BW_LOCALE`. Templates
translate with `{{ _("...") }}` / `{% trans %}` (Jinja's i18n extension, new-style
gettext) and show instants with `{{ at|when }}` (`BW_TIMEZONE`, or `when(zone=site.timezone)`
for a site's own zone), always with the offset. The page's language and zone live in
context variables for the length of a render, so one shared environment serves every
language at once.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from fastapi import Request
from markupsafe import Markup

from brightwatch.contract.codes import name_zh
from brightwatch.i18n import (
    DEFAULT_LOCALE,
    DEFAULT_TIMEZONE,
    LOCALES,
    normalise,
    show,
    translate,
    translate_plural,
)
from brightwatch.i18n.catalogue import NAMES
from brightwatch.i18n.timefmt import local

COOKIE = "bw_lang"
_locale: ContextVar[str] = ContextVar("bw_locale", default=DEFAULT_LOCALE)
_zone: ContextVar[str] = ContextVar("bw_zone", default=DEFAULT_TIMEZONE)


def request_locale(request: Request) -> str:
    settings = request.app.state.parts.settings
    for tag in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        found = normalise(tag)
        if found:
            return found
    return str(getattr(settings, "locale", DEFAULT_LOCALE))


def request_zone(request: Request) -> str:
    return str(getattr(request.app.state.parts.settings, "timezone", DEFAULT_TIMEZONE))


def use(locale: str, zone: str) -> None:
    """Render what follows (in this context) in `locale`, times in `zone`."""
    _locale.set(locale)
    _zone.set(zone)


def current_locale() -> str:
    return _locale.get()


def current_zone() -> str:
    return _zone.get()


def _gettext(message: str, **params: Any) -> str:
    return translate(_locale.get(), message, **params)


def _ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    return translate_plural(_locale.get(), singular, plural, n, **params)


def when(at: datetime | date | None, style: str = "second", zone: str | None = None) -> Markup:
    """`<time>` for an instant: its ISO 8601 value for machines, local text for people."""
    if at is None:
        return Markup("")
    tz = zone or _zone.get()
    iso = at.isoformat() if not isinstance(at, datetime) else local(at, tz).isoformat()
    return Markup('<time datetime="{}" title="{}">{}</time>').format(iso, tz, show(at, tz, style))


def localdate(at: datetime, zone: str | None = None) -> date:
    """The calendar day of `at` in the page's (or `zone`'s) time."""
    return local(at, zone or _zone.get()).date()


def code_name(code: str, locale: str | None = None) -> str:
    """The name shown beside a catalogue code: its Chinese name in Chinese
    (`contract.codes.name_zh`); the catalogue has no English names, so English readers
    see the code alone. `locale`: the page's when not given."""
    return (name_zh(code) or "") if (locale or _locale.get()) == "zh-CN" else ""


def install(env: Any) -> None:
    """Give a Jinja environment the catalogue and the time filters."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    env.filters["when"] = when
    env.filters["localdate"] = localdate
    env.globals["current_locale"] = current_locale
    env.globals["current_zone"] = current_zone
    env.globals["code_name"] = code_name
    env.globals["LOCALES"] = [(tag, NAMES[tag]) for tag in LOCALES]
