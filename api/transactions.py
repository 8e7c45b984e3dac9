"""Write transactions that outlast the database's own conflict resolution.

PostgreSQL ends one side of a deadlock (40P01) and, where isolation asks for it, a
transaction that would break serialisability (40001); both mean "run it again". The
routes that change something run their work through `in_transaction`, which reruns it in
a fresh transaction a few times after a short random pause. If the conflict outlasts the
attempts, the error reaches the app's handler and the answer is 503 (retry later), never
500.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 4
PAUSE_S = 0.02  # first pause (random up to this), doubling per attempt


def is_conflict(exc: BaseException) -> bool:
    """The database rolled the transaction back to resolve a conflict (SQLSTATE class 40:
    serialisation failure, deadlock); running it again may well succeed."""
    return isinstance(exc, psycopg.Error) and (exc.sqlstate or "").startswith("40")


def in_transaction(
    conn: psycopg.Connection[Any], work: Callable[[], T], attempts: int = ATTEMPTS
) -> T:
    """`work()` inside one transaction on `conn`; rerun when the database rolled it back
    to resolve a conflict (class 40: serialisation failure, deadlock)."""
    for attempt in range(1, attempts + 1):
        try:
            with conn.transaction():
                return work()
        except psycopg.OperationalError as exc:
            if not is_conflict(exc) or attempt == attempts:
                raise
            log.info(
                "transaction rolled back by the database (%s), attempt %d of %d",
                exc.sqlstate,
                attempt,
                attempts,
            )
            time.sleep(random.uniform(0, PAUSE_S * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")
