"""The message catalogue: which languages there are, a person's choice normalised, and
the translations of each, read from the `.po` files with Babel once per process."""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
# one catalogue file per part of the product, each extracted from its own folders
# (`make i18n`, I18N_DOMAINS in the Makefile); a language's translations are their union
DOMAINS = ("web", "notify", "dashboards")
# BCP 47 tags as the web and BW_LOCALE write them; the first is the default
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
# the folder of each language's catalogue (gettext's POSIX names); English is the source
FOLDERS = {"zh-CN": "zh_CN"}
NAMES = {"zh-CN": "中文", "en": "English"}


def normalise(tag: str | None) -> str | None:
    """A language as a person or browser writes it (`zh`, `zh_CN`, `zh-Hans-CN`, `en-GB`)
    as one of LOCALES; None when it is none of them."""
    if not tag:
        return None
    parts = tag.strip().replace("_", "-").lower().split("-")
    if parts[0] == "zh" and not {"tw", "hk", "mo", "hant"} & set(parts[1:]):
        return "zh-CN"
    if parts[0] == "en":
        return "en"
    return None


def po_path(locale: str, domain: str) -> Path:
    return LOCALE_DIR / FOLDERS[locale] / "LC_MESSAGES" / f"{domain}.po"


@cache
def _catalogs(locale: str) -> tuple[Any, ...]:
    out = []
    for domain in DOMAINS:
        path = po_path(locale, domain)
        if path.is_file():
            with path.open("rb") as f:
                out.append(read_po(f, locale=FOLDERS[locale], domain=domain))
    return tuple(out)


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """gettext translations for `locale` (English: the msgids themselves). The `.po` files
    are compiled in memory, so the repository holds no binary `.mo` files; fuzzy entries
    are left out, as msgfmt does."""
    if locale not in FOLDERS:
        if locale not in LOCALES:
            raise ValueError(f"unknown locale {locale!r}; one of {', '.join(LOCALES)}")
        return _gettext.NullTranslations()
    merged: _gettext.NullTranslations = _gettext.NullTranslations()
    for catalog in _catalogs(locale):
        buf = io.BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        part = Translations(fp=buf, domain=catalog.domain)
        if isinstance(merged, Translations):
            merged.merge(part)
        else:
            merged = part
    return merged


def translate(locale: str, message: str, **params: Any) -> str:
    """`message` in `locale`, with `%(name)s` parameters filled in when given."""
    text = translations(locale).gettext(message)
    return text % params if params else text


def translate_plural(locale: str, singular: str, plural: str, n: int, **params: Any) -> str:
    """The form for `n` (`%(num)d` is `n`)."""
    text = translations(locale).ngettext(singular, plural, n)
    return text % {"num": n, **params}


def translator(locale: str) -> Callable[..., str]:
    """`_` for code that writes texts in one language: `_ = translator(loc); _("Hello")`."""

    def _(message: str, **params: Any) -> str:
        return translate(locale, message, **params)

    return _


def in_every_locale(write: Callable[[str], str]) -> dict[str, str]:
    """A text written once per language (`write(locale)`), for what is written when
    something happens and read later by people of either language (alert summaries)."""
    return {locale: write(locale) for locale in LOCALES}


def for_reader(texts: Mapping[str, str] | None, locale: str, fallback: str) -> str:
    """The reader's copy of a text written in every language (`in_every_locale`);
    `fallback` (the deployment's copy) where there is none, as for records written
    before the copies were kept."""
    return (texts or {}).get(locale) or fallback


def N_(message: str) -> str:
    """Marks a text for the catalogue where it is defined (a table); it is translated
    where it is shown (`translate(locale, text)`)."""
    return message


def messages(locale: str, source: str | None = None) -> dict[str, str]:
    """msgid → translation, of the messages extracted from files whose path ends with
    `source` (e.g. `console.js`, for the browser), or of all; {} for English."""
    if locale not in FOLDERS:
        return {}
    out: dict[str, str] = {}
    for m in (m for catalog in _catalogs(locale) for m in catalog):
        if not m.id or not m.string or m.fuzzy or isinstance(m.id, tuple):
            continue
        if source is None or any(path.endswith(source) for path, _ in m.locations):
            out[m.id] = m.string
    return out
