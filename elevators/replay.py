"""Replays: feed one terminal's recorded messages through the engine, in device time.

Used by the scenario tests and the simulator's ground-truth checks; the rules worker
runs the same `step`/`tick` on live traffic. Between messages the clock is ticked at
`tick_ms` like the worker's timer thread, so the time at which each event came out is
known (`Fired.at`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from brightwatch.contract.payloads import (
    ElevatorEvent,
    ElevatorStats,
    ElevatorStatus,
    PayloadError,
    decode_availability,
    decode_device_json,
)
from brightwatch.elevators.config import RuleConfig
from brightwatch.elevators.engine import new_state, step, tick
from brightwatch.elevators.inputs import AvailabilityIn, EventIn, Message, StatsIn, StatusIn, to_ms
from brightwatch.elevators.rules import RuleEvent
from brightwatch.elevators.state import ElevatorState

_FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Fired:
    at: int  # device time (ms) at which the engine produced the event
    event: RuleEvent


def decode(channel: str, raw: bytes, received_ts: int) -> Message:
    """A device payload as the engine reads it; PayloadError when it is invalid."""
    if channel == "availability":
        return AvailabilityIn(received_ts, decode_availability(raw) == "online")
    if channel == "status":
        status = decode_device_json(raw, ElevatorStatus, _FAR_FUTURE)
        return StatusIn(to_ms(status.ts), status.message.seq, status.message)
    if channel == "event":
        event = decode_device_json(raw, ElevatorEvent, _FAR_FUTURE)
        return EventIn(to_ms(event.ts), event.message.seq, event.message)
    if channel == "stats":
        stats = decode_device_json(raw, ElevatorStats, _FAR_FUTURE)
        return StatsIn(to_ms(stats.ts), stats.message.seq, stats.message)
    raise PayloadError(f"unknown elevator channel {channel!r}")


def run(
    timeline: Iterable[tuple[int, Message | None]],
    cfg: RuleConfig,
    tick_ms: int = 250,
    state: ElevatorState | None = None,
    until: int | None = None,
) -> tuple[ElevatorState, list[Fired]]:
    """Feed (arrival time, message or None for a bare tick) pairs in arrival order."""
    st = state if state is not None else new_state()
    fired: list[Fired] = []
    clock: int | None = None

    def tick_to(t: int) -> None:
        nonlocal clock, st
        if clock is None:
            clock = t
            return
        while clock + tick_ms <= t:
            clock += tick_ms
            if st.due is not None and st.due <= clock:
                st, evs = tick(st, cfg, clock)
                fired.extend(Fired(clock, e) for e in evs)
        if t > clock:
            clock = t

    for arrival, message in timeline:
        tick_to(arrival)
        now = arrival if clock is None else max(clock, arrival)
        if message is None:
            st, evs = tick(st, cfg, arrival)
        else:
            st, evs = step(st, message, cfg)
        fired.extend(Fired(now, e) for e in evs)
    if until is not None:
        tick_to(until)
    return st, fired
