"""Every text a person reads, in zh-CN first and in English, and every time in the reader's
zone with the zone shown.

- One message catalogue: gettext `.po` files under `i18n/locale/`, read with Babel. The
  source strings (msgids) are English; `locale/zh_CN/LC_MESSAGES/messages.po` holds the
  Chinese. `make i18n` extracts every marked string (Python `_()`/`gettext()`, Jinja
  `{{ _() }}`/`{% trans %}`, `_()` in console.js, see `babel.cfg`) and merges it into the
  catalogue; `tests/i18n` fails while an extracted string has no Chinese.
- Python marks texts with `_()` from `translator(locale)`, `translate(locale, ...)`, or
  `N_()` in tables translated where shown.
- Catalogue codes (`NO_MASK`, `TRAPPED`, ...) are never translated: they stay verbatim
  beside their Chinese names (contract.codes).
- `catalogue`: the languages, a person's choice normalised, the translations of each.
- `timefmt`: instants shown in a zone (`BW_TIMEZONE`, or a site's own) with the offset
  visible; the API itself keeps ISO 8601 with offsets.

May import: stdlib, Babel.
"""

from brightwatch.i18n.catalogue import (
    DEFAULT_LOCALE,
    LOCALES,
    N_,
    for_reader,
    in_every_locale,
    messages,
    normalise,
    translate,
    translate_plural,
    translations,
    translator,
)
from brightwatch.i18n.timefmt import DEFAULT_TIMEZONE, check_zone, local, show

__all__ = [
    "DEFAULT_LOCALE",
    "DEFAULT_TIMEZONE",
    "LOCALES",
    "N_",
    "check_zone",
    "for_reader",
    "in_every_locale",
    "local",
    "messages",
    "normalise",
    "show",
    "translate",
    "translate_plural",
    "translations",
    "translator",
]
