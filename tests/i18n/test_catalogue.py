"""The message catalogue is complete: every text marked in the code, templates and
console.js (extracted here with Babel, as `make i18n` does) has a Chinese translation
with the same placeholders, and catalogue codes stay verbatim."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from brightwatch.i18n import (
    DEFAULT_LOCALE,
    messages,
    normalise,
    show,
    translate,
    translate_plural,
    translator,
)
from brightwatch.i18n.catalogue import DOMAINS, po_path

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
CODE = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")


def _make_variable(name: str) -> str:
    m = re.search(rf"^{name} :=(.*)$", (REPO / "Makefile").read_text(), re.M)
    assert m, f"{name} is not set in the Makefile"
    return m.group(1).strip()


def _domains() -> dict[str, list[str]]:
    out = {}
    for spec in _make_variable("I18N_DOMAINS").split():
        domain, _, dirs = spec.partition(":")
        out[domain] = dirs.split(",")
    return out


def _keywords() -> dict[str, tuple[int, ...] | None]:
    out: dict[str, tuple[int, ...] | None] = {}
    for spec in re.findall(r"-k (\S+)", _make_variable("I18N_KEYWORDS")):
        name, _, args = spec.partition(":")
        out[name] = tuple(int(a) for a in args.split(",")) if args else None
    return out


def _method_map() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    methods, options, current = [], {}, None
    for line in (REPO / "i18n" / "babel.cfg").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            method, pattern = line.strip("[]").split(":", 1)
            current = pattern.strip()
            methods.append((current, method.strip()))
            options[current] = {}
        else:
            key, _, value = line.partition("=")
            options[current][key.strip()] = value.strip()
    return methods, options


def extracted(domain: str) -> dict[str, list[str]]:
    """msgid (a plural's singular) → where it is used."""
    methods, options = _method_map()
    found: dict[str, list[str]] = {}
    for folder in _domains()[domain]:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            REPO / folder, methods, options, keywords=_keywords()
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, []).append(f"{folder}/{filename}:{lineno}")
    return found


def test_the_makefile_and_the_loader_know_the_same_domains() -> None:
    assert tuple(_domains()) == DOMAINS


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_extracted_text_has_a_chinese_translation(domain: str) -> None:
    with po_path("zh-CN", domain).open("rb") as f:
        catalog = read_po(f)
    missing, fuzzy, placeholders, codes = [], [], [], []
    for msgid, where in sorted(extracted(domain).items()):
        entry = catalog.get(msgid)
        if (
            entry is None
            or not entry.string
            or not any(entry.string if isinstance(entry.string, tuple) else [entry.string])
        ):
            missing.append(f"{msgid!r} ({where[0]})")
            continue
        if entry.fuzzy:
            fuzzy.append(f"{msgid!r} ({where[0]})")
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = {m.group(0) for i in ids for m in PLACEHOLDER.finditer(i)}
        for s in strings:
            if {m.group(0) for m in PLACEHOLDER.finditer(s)} != wanted:
                placeholders.append(f"{msgid!r} → {s!r}")
            if not set(CODE.findall(ids[0])) <= set(CODE.findall(s)):
                codes.append(f"{msgid!r} → {s!r}")
    assert not missing, (
        f"{len(missing)} text(s) without Chinese in {domain}.po (make i18n, then translate):\n"
        + "\n".join(missing[:40])
    )
    assert not fuzzy, "fuzzy (unchecked) translations:\n" + "\n".join(fuzzy[:40])
    assert not placeholders, "placeholders differ:\n" + "\n".join(placeholders[:40])
    assert not codes, "catalogue codes must stay verbatim:\n" + "\n".join(codes[:40])


def test_languages_as_people_and_browsers_write_them() -> None:
    assert DEFAULT_LOCALE == "zh-CN"
    for tag in ("zh", "zh-CN", "zh_CN", "zh-Hans-CN", "ZH-cn"):
        assert normalise(tag) == "zh-CN", tag
    for tag in ("en", "en-GB", "en_US"):
        assert normalise(tag) == "en", tag
    for tag in ("zh-TW", "zh-Hant", "fr", "", None, "xx-yy"):
        assert normalise(tag) is None, tag


def test_english_is_the_source_and_parameters_fill_in() -> None:
    assert translate("en", "no such text %(n)s", n=3) == "no such text 3"
    _ = translator("en")
    assert _("plain") == "plain"
    assert translate_plural("en", "%(num)d alert", "%(num)d alerts", 2) == "2 alerts"
    assert messages("en") == {}


def test_a_chinese_text_comes_from_the_catalogue() -> None:
    zh = messages("zh-CN")
    if not zh:
        pytest.skip("the catalogue is empty")
    msgid, text = next(iter(zh.items()))
    assert translate("zh-CN", msgid) == text
    assert text != msgid or not re.search("[A-Za-z]{4}", msgid)


def test_an_alert_at_18_14z_reads_02_14_in_shanghai_with_its_offset() -> None:
    at = datetime(2026, 12, 5, 18, 14, tzinfo=UTC)
    assert show(at, "Asia/Shanghai") == "2026-12-06 02:14:00 (+08:00)"
    assert show(at, "Asia/Shanghai", "hm") == "02:14 (+08:00)"
    assert show(at, "UTC", "minute") == "2026-12-05 18:14 (+00:00)"
    assert show(at.replace(tzinfo=None), "Asia/Shanghai", "hm") == "02:14 (+08:00)"  # naive = UTC
    assert show(at, "America/New_York", "hm") == "13:14 (-05:00)"
    assert show(date(2026, 12, 5), "Asia/Shanghai") == "2026-12-05"
    assert show(None) == ""


def test_a_text_in_two_domains_reads_the_same_in_both() -> None:
    """The domains are merged at run time: one text with two translations would show
    whichever loaded last everywhere."""
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for domain in DOMAINS:
        with po_path("zh-CN", domain).open("rb") as f:
            for m in read_po(f):
                if not m.id or not m.string or isinstance(m.id, tuple):
                    continue
                if m.id in seen and seen[m.id][1] != m.string:
                    clashes.append(f"{m.id!r}: {seen[m.id]} vs ({domain!r}, {m.string!r})")
                seen.setdefault(m.id, (domain, m.string))
    assert not clashes, "\n".join(clashes)
