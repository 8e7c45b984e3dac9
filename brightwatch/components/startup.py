"""A component's first read of the database (the rules worker's pending deadlines, the
vision worker's saved camera states), waited for when the database is not there yet: a
service started before its database, or during a database restart, waits and says so,
as the clocks and the delivery worker do, instead of failing after the pool's timeout and
stopping every component of the process with it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from brightwatch.db.errors import is_transient

log = logging.getLogger(__name__)

T = TypeVar("T")
PAUSES_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # then every 30 s


def when_reachable(
    stop: threading.Event,
    what: str,
    load: Callable[[], T],
    pauses: Sequence[float] = PAUSES_S,
) -> T | None:
    """`load()` once the database answers; None when `stop` is set first. Only what
    trying again may cure (a refused or lost connection, a pool with no connection: see
    `db.errors.is_transient`) is waited for; anything else is raised at once."""
    attempt = 0
    while not stop.is_set():
        try:
            return load()
        except Exception as exc:
            if not is_transient(exc):
                raise
            pause = pauses[min(attempt, len(pauses) - 1)]
            attempt += 1
            said = str(exc).strip()
            reason = said.splitlines()[0] if said else type(exc).__name__
            log.warning(
                "%s: the database is not reachable (%s); trying again in %g s (attempt %d)",
                what,
                reason,
                pause,
                attempt,
            )
            stop.wait(pause)
    return None
