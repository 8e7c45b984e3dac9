"""Claiming due rows for a clock: each row in its own transaction, never twice at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg


def claim_due(
    conn: psycopg.Connection[Any],
    due: str,
    due_params: Sequence[Any],
    claim: str,
    claim_params: Sequence[Any],
    work: Callable[[Sequence[Any]], int],
) -> int:
    """Run `work` on each due row, one transaction per row, and return the sum of its results.

    `due` selects the ids of the due rows (oldest first, limited); `claim` re-selects one of
    them by id (its first parameter, then `claim_params`) FOR UPDATE SKIP LOCKED, so a row
    another worker holds, or one no longer due, is skipped rather than done twice.
    """
    ids = [r[0] for r in conn.execute(due, due_params).fetchall()]
    done = 0
    for row_id in ids:
        with conn.transaction():
            row = conn.execute(claim, (row_id, *claim_params)).fetchone()
            if row is not None:
                done += work(row)
    return done
