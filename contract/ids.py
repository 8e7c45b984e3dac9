"""Identifiers: 1-64 characters of [A-Za-z0-9_.-] (interfaces.md, Identifiers)."""

from __future__ import annotations

import re

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
_ID_RE = re.compile(ID_PATTERN)


class InvalidIdentifier(ValueError):
    """An elevator, site, camera or firm id outside the allowed alphabet or length."""


def is_valid_id(value: str) -> bool:
    # fullmatch: `$` alone also matches before a final newline ("E1\n")
    return bool(_ID_RE.fullmatch(value))


def check_id(value: str, what: str = "id") -> str:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        shown = value if isinstance(value, str) and len(value) <= 80 else repr(value)[:80]
        raise InvalidIdentifier(f"{what} {shown!r} is not 1-64 characters of [A-Za-z0-9_.-]")
    return value
