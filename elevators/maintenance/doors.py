"""The door-cycle time indicator: the median door cycle of a day, from status samples.

A terminal sends a status sample on every change (interfaces.md), so a day's samples
carry every door transition `closed → opening → open → closing → closed` with its time.
A **door cycle** runs from the sample that leaves `closed` to the next sample that is
`closed` again; its length in seconds is what a worn door operator, a dragging hanger
or a dirty sill track makes longer. The day's indicator is the **median** cycle: people
holding a door, a car waiting at a busy lobby and the odd slow passenger are a minority
of a day's cycles, and the median ignores them where a mean would follow them.

Which cycles count (and why):
- only cycles entirely in `normal` service mode: in inspection the door is driven by
  hand during a technician's tests; in fire return, firefighter, emergency power or
  earthquake operation the door follows other rules (constant-pressure buttons, doors
  parked open), none of which says how the door operator ages;
- a cycle longer than `max_cycle_s` (120 s by default) is dropped, not clipped: it is a
  person or a trolley holding the door, or a car parked open, and says nothing about
  the door mechanism (a door that truly cannot close raises DOOR_CLOSE_FAIL, a fault,
  not a drift); clipping would let a busy day of held doors move the median;
- missing samples must not make a cycle look shorter or longer than it was: a cycle
  counts only if the sample before it was `closed` (the start was seen) and its first
  sample is `opening` (a cycle first seen `open` or `closing` lost its start); a cycle
  in which the car is `running`, the closing `closed` sample included, lost its end (a
  car cannot run with its door open, so the door closed at an unknown earlier time);
  a cycle cut by the day boundary (no start or no end in the day's samples) is dropped.
  A lost `closing` sample does not matter: only the two ends are timed;
- fewer than MIN_CYCLES counted cycles give no value for the day (a median of two or
  three cycles is one passenger's habit, not the door's speed).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import NamedTuple

# a day with fewer counted cycles has no value
MIN_CYCLES = 5
DEFAULT_MAX_CYCLE_S = 120.0


class DoorSample(NamedTuple):
    """What the indicator reads of one status sample."""

    ts: float  # seconds (epoch or any monotonic origin)
    service_mode: str
    run_state: str
    door_state: str


Sample = DoorSample | tuple[float, str, str, str]


def door_cycles(samples: Iterable[Sample], max_cycle_s: float = DEFAULT_MAX_CYCLE_S) -> list[float]:
    """The lengths (s) of the day's countable door cycles, in order; `samples` oldest first
    (DoorSample or plain (ts, service_mode, run_state, door_state) tuples)."""
    out: list[float] = []
    previous: str | None = None
    start: float | None = None  # the cycle in progress, if any
    ok = False
    for ts, mode, run, door in samples:
        if start is not None:
            if mode != "normal" or run == "running":
                ok = False
            if door == "closed":
                length = ts - start
                if ok and 0 < length <= max_cycle_s:
                    out.append(length)
                start = None
        elif door != "closed" and previous == "closed":
            start = ts
            ok = door == "opening" and mode == "normal" and run != "running"
        previous = door
    return out


def door_cycle_time_indicator(
    samples: Iterable[Sample], max_cycle_s: float = DEFAULT_MAX_CYCLE_S
) -> float | None:
    """The median door cycle (s) of the day; None with fewer than MIN_CYCLES cycles."""
    cycles = door_cycles(samples, max_cycle_s)
    if len(cycles) < MIN_CYCLES:
        return None
    return float(statistics.median(cycles))
