"""How a process stops in bounded time: threads joined under one deadline, and timed
prints of every thread's stack.

The prints use faulthandler's one timer, shared by its two users. The watchdog
(brightwatch.health.Watchdog) keeps it armed to end a frozen process; a stop
(cli.stop_on_signals) arms it to show where a slow stop waits. A stop takes the timer
over for good: the watchdog no longer re-arms or cancels it. No lock: a signal handler
calls `arm`, and a lock held by the thread it interrupts would hang it.

May import: the standard library.
"""

from __future__ import annotations

import faulthandler
import threading
import time
from collections.abc import Iterable

_owner: str | None = None  # who armed the timer last ("watchdog", "stop"), None: nobody


def join_within(threads: Iterable[threading.Thread], timeout: float) -> list[str]:
    """Wait for `threads`, `timeout` seconds in all; the names of those still running."""
    waited = list(threads)
    deadline = time.monotonic() + timeout
    for t in waited:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in waited if t.is_alive()]


def arm(owner: str, after_s: float, *, exit: bool) -> None:
    """Print every stack after `after_s` (then end the process with status 1 if `exit`),
    unless a stop holds the timer and `owner` is not the stop."""
    global _owner
    if _owner == "stop" and owner != "stop":
        return
    faulthandler.dump_traceback_later(after_s, exit=exit)
    _owner = owner


def disarm(owner: str | None = None) -> None:
    """Cancel the timer if `owner` armed it last (None: whoever did)."""
    global _owner
    if owner is None or _owner == owner:
        faulthandler.cancel_dump_traceback_later()
        _owner = None
