"""One set of limits for the JSON a device may make us store, and how a stored value that
breaks them is served back.

Devices may send fields the contract does not know; they are kept (interfaces.md) in
`jsonb` columns and served again by the API and dashboards. Whatever is stored must be
servable: PostgreSQL refuses U+0000 in text and jsonb, a lone surrogate cannot be encoded
as UTF-8, and a value nested hundreds of levels deep breaks the serialisers on the way
out (Python's recursion limit). So every decoded value is checked against `LIMITS` before
it is stored, and `clamp` degrades a value stored before these limits existed (or by
hand) instead of failing the whole list it appears in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class JsonLimits:
    max_bytes: int = 64 * 1024  # a whole JSON document from a device
    max_depth: int = 16  # objects and arrays inside one another, the top-level object is 1
    max_keys: int = 256  # keys of one object
    max_items: int = 1000  # items of one array
    max_string: int = 4096  # characters of one string (keys included)
    max_nodes: int = 10_000  # values in the whole document


LIMITS = JsonLimits()

# What replaces a part of a stored value that breaks the limits when it is served back.
TRUNCATED = "[truncated: over the contract's JSON limits]"


class LimitError(ValueError):
    """A value that breaks the limits; `reason` says which (the dead letter's reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def unstorable(text: str) -> str | None:
    """Why this text cannot be stored (PostgreSQL text and jsonb, UTF-8), or None."""
    if "\x00" in text:
        return "contains a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not UTF-8)"
    return None


def check_json(value: Any, where: str = "payload", limits: JsonLimits = LIMITS) -> None:
    """Raise LimitError when `value` (decoded JSON) cannot be stored and served back."""
    nodes = 0
    # iterative, so a hostile depth cannot exhaust the stack while it is being checked
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise LimitError(f"limits: {where}: more than {limits.max_nodes} values")
        if isinstance(item, str):
            if len(item) > limits.max_string:
                raise LimitError(
                    f"limits: {where}: a string longer than {limits.max_string} characters"
                )
            bad = unstorable(item)
            if bad:
                raise LimitError(f"limits: {where}: a string {bad}")
        elif isinstance(item, dict):
            if depth > limits.max_depth:
                raise LimitError(f"limits: {where}: nested deeper than {limits.max_depth} levels")
            if len(item) > limits.max_keys:
                raise LimitError(
                    f"limits: {where}: an object with more than {limits.max_keys} keys"
                )
            for k, v in item.items():
                if len(k) > limits.max_string:
                    raise LimitError(
                        f"limits: {where}: a key longer than {limits.max_string} characters"
                    )
                bad = unstorable(k)
                if bad:
                    raise LimitError(f"limits: {where}: a key {bad}")
                stack.append((v, depth + 1))
        elif isinstance(item, list):
            if depth > limits.max_depth:
                raise LimitError(f"limits: {where}: nested deeper than {limits.max_depth} levels")
            if len(item) > limits.max_items:
                raise LimitError(
                    f"limits: {where}: an array with more than {limits.max_items} items"
                )
            stack.extend((v, depth + 1) for v in item)


def check_text(value: str, where: str, limits: JsonLimits = LIMITS) -> None:
    """The same rules for one string field of a message (an event's code or detail)."""
    check_json(value, where, limits)


def clamp(value: Any, limits: JsonLimits = LIMITS) -> Any:
    """A copy of a stored value that can be served: parts beyond the limits (too deep, too
    many keys or items, too long, unstorable text) are replaced by `TRUNCATED` or cut."""
    budget = [limits.max_nodes]

    def walk(item: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            return TRUNCATED
        if isinstance(item, str):
            text = item[: limits.max_string]
            return text if unstorable(text) is None else TRUNCATED
        if isinstance(item, dict):
            if depth > limits.max_depth:
                return TRUNCATED
            out: dict[str, Any] = {}
            for k, v in list(item.items())[: limits.max_keys]:
                key = str(k)[: limits.max_string]
                if unstorable(key) is None:
                    out[key] = walk(v, depth + 1)
            return out
        if isinstance(item, list):
            if depth > limits.max_depth:
                return TRUNCATED
            return [walk(v, depth + 1) for v in item[: limits.max_items]]
        return item

    if _within(value, limits):
        return value  # the common case: nothing to copy
    return walk(value, 1)


def _within(value: Any, limits: JsonLimits) -> bool:
    try:
        check_json(value, "value", limits)
    except LimitError:
        return False
    return True
