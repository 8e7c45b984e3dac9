"""JSON read from the database and served back, within the contract's limits.

Device extras are stored as jsonb; a value stored before the contract's limits existed
(contract.limits), or written by hand, may be too deep for the serialisers on the way
out and would fail every list it appears in. The API's connections decode jsonb with
`served_json`, which degrades such a value (`contract.limits.clamp`) instead.
"""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
from psycopg.types.json import set_json_loads

from brightwatch.contract.limits import TRUNCATED, clamp


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
    return clamp(value)


def serve_json_within_limits(conn: psycopg.Connection[Any]) -> None:
    set_json_loads(served_json, conn)
