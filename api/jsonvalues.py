"""JSON read from the database and served back, within the contract's limits.

Device extras are stored as jsonb; a value stored before the contract's limits existed
(contract.limits), or written by hand, may be too deep for the serialisers on the way
out and would fail every list it appears in. The API's connections decode jsonb with
`served_json`, which degrades such a value (`contract.limits.clamp`) instead.

Checking a value against the limits costs ten times decoding it, and a list page decodes
one value per row; most stored values are a few dozen bytes that cannot break any limit,
and `_surely_within` tells those from the text alone.
"""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
from psycopg.types.json import set_json_loads

from brightwatch.contract.limits import LIMITS, TRUNCATED, clamp

# Text shorter than this cannot hold more keys, items, characters or values than the
# limits allow: an object member takes at least 4 bytes and a comma (`"":0,`), an array
# item at least 2 (`0,`), a character and a value at least 1.
_SHORT = min(5 * LIMITS.max_keys, 2 * LIMITS.max_items, LIMITS.max_string, LIMITS.max_nodes)


def served_json(data: str | bytes) -> Any:
    try:
        value = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        # deeper than any decoder takes: nothing of it can be served, but its shape (an
        # object or an array, as the column's readers expect) is kept
        head = data.lstrip()[:1]
        if head in ("{", b"{"):
            return {"truncated": TRUNCATED}
        return [TRUNCATED] if head in ("[", b"[") else TRUNCATED
    return value if _surely_within(data) else clamp(value)


def _surely_within(data: str | bytes) -> bool:
    """Whether this JSON text is within the limits whatever it holds: shorter than
    `_SHORT`, with no more brackets than the depth allowed (each level needs one), and
    with no `\\u` escape, the only way JSON text carries a NUL or a lone surrogate (raw,
    they are not valid JSON or not valid UTF-8). False sends the value to `clamp`."""
    if isinstance(data, str):
        return False  # psycopg hands bytes; text may hold a lone surrogate as such
    return (
        len(data) < _SHORT
        and data.count(b"{") + data.count(b"[") <= LIMITS.max_depth
        and b"\\u" not in data
        and b"\x00" not in data
    )


def serve_json_within_limits(conn: psycopg.Connection[Any]) -> None:
    set_json_loads(served_json, conn)
