"""The rule state of one elevator: plain data, saved and restored (MessagePack).

Everything the rules remember lives here (timers are the `since` times of features and
the `due` deadline, never sleeping tasks), so a rules worker can save the state after
each batch and a restarted worker carries on exactly where the last one committed.
"""

from __future__ import annotations

from typing import Literal

import msgspec

STATE_VERSION = 1
# recent sequence numbers remembered to drop duplicates (a 63-bit mask: it stays a plain
# integer in MessagePack); redeliveries come from the last batch, well inside it
SEQ_WINDOW = 63

Admission = Literal["new", "late", "duplicate", "restart"]


class Sample(msgspec.Struct, frozen=True, array_like=True):
    """The fields of a status sample the rules read (and show as evidence)."""

    ts: int
    seq: int
    service_mode: str
    run_state: str
    floor: int
    door_zone: bool
    door_state: str
    has_person: bool
    speed: float
    direction: str | None = None
    load_pct: float | None = None
    power_source: str | None = None
    safety_circuit: str | None = None
    alarm_button: bool | None = None
    up_limit: bool | None = None
    down_limit: bool | None = None


class Features(msgspec.Struct, frozen=True, array_like=True):
    """What the rules test, derived from one sample and the elevator's thresholds."""

    mode: str
    supervised: bool  # door and trapped rules watch this mode
    motion: bool  # UCM / DOOR_OPEN_RUN watch this mode
    stopped: bool
    zone: bool
    door: str
    closed: bool
    door_open: bool  # open or opening
    person: bool
    battery: bool
    safety_open: bool
    alarm: bool
    up_limit: bool
    down_limit: bool
    above_top: bool  # moving up above the top floor
    below_bottom: bool
    floor_ok: bool  # inside the configured range (True when no range is configured)
    over_p2: bool
    over_p1: bool


FEATURE_NAMES: tuple[str, ...] = Features.__struct_fields__


class RuleState(msgspec.Struct, omit_defaults=True):
    """One rule (or one source of a code: `CODE`, `CODE/sub`, `CODE/controller`)."""

    active: bool = False
    started: int = 0  # when the active condition began, ms
    severity: str = ""
    note: str = ""  # what raised it, in words


class Emitted(msgspec.Struct, omit_defaults=True):
    """A code the alert core has been told is active."""

    severity: str
    at: int
    label: str = ""  # MODE_CHANGE: the mode announced


class ElevatorState(msgspec.Struct, kw_only=True, omit_defaults=True):
    version: int = STATE_VERSION

    # -- message bookkeeping (duplicates, order, gaps, reboots)
    epoch: int = 0  # +1 at every terminal restart (seq back to 0)
    max_seq: int = -1
    seen: int = 0  # bit i set: max_seq - i was seen
    newest_ts: int = 0  # newest device time of any message
    gaps: int = 0  # messages missing by seq (late arrivals give theirs back)
    duplicates: int = 0
    late: int = 0
    restarts: int = 0
    last_msg_ts: int = 0  # device time of the newest message of any kind
    online: bool | None = None  # last availability message

    # -- the car as the last status sample showed it
    sample: Sample | None = None
    features: Features | None = None
    since: dict[str, int] = {}  # feature -> device time it took its current value
    recent: list[Sample] = []  # evidence ring, oldest first
    clock: int = 0  # latest time the rules were evaluated at
    gapless: bool = True  # no message missing since the last status sample

    # -- trackers of transitions between samples
    door_origin: str = ""  # "rest" or "run": where the car was when the doors left closed
    ucm_count: int = 0
    ucm_first: int = 0
    cycles: list[int] = []  # door opening starts since the last run
    opening: bool = False  # an opening is under way and has not reached open
    open_tries: int = 0
    run_floor: int | None = None  # floor a run started from
    trip_end: int = 0  # end of the last complete run within the run-time limit
    floor_jump_at: int = 0
    alarm_pressed_at: int = 0
    alarm_event: bool = False  # the controller reports the alarm (ALARM_BUTTON event)
    alarm_absorbed: int = 0  # alarm press already reported inside a trapped alert
    stop_explained: int = 0  # a stop between floors another fault caused (its start)

    # -- rules and what the alert core was told
    rules: dict[str, RuleState] = {}
    emitted: dict[str, Emitted] = {}
    due: int | None = None  # earliest time a rule may change without a new message
    urgent_due: int | None = None  # the same, for life-safety (P1) rules only


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(ElevatorState)


def encode_state(state: ElevatorState) -> bytes:
    return _encoder.encode(state)


def decode_state(raw: bytes) -> ElevatorState:
    state = _decoder.decode(raw)
    if state.version != STATE_VERSION:
        raise ValueError(f"rule state version {state.version}, this engine reads {STATE_VERSION}")
    return state


def admit(state: ElevatorState, seq: int, ts: int) -> Admission:
    """Classify a message by its seq; update the bookkeeping.

    A seq above everything seen is new (the numbers skipped are counted as a gap). A seq
    already seen is a duplicate (a redelivery) unless its time is newer than anything
    seen: then the terminal restarted and counts from 0 again. An unseen seq below the
    newest is a late arrival and gives its gap back.
    """
    if state.max_seq < 0:
        state.max_seq, state.seen = seq, 1
        state.newest_ts = max(state.newest_ts, ts)
        return "new"
    if seq > state.max_seq:
        shift = seq - state.max_seq
        state.gaps += shift - 1
        state.seen = ((state.seen << shift) | 1) & ((1 << SEQ_WINDOW) - 1)
        state.max_seq = seq
        if shift > 1:
            state.gapless = False
        state.newest_ts = max(state.newest_ts, ts)
        return "new"
    if ts > state.newest_ts:
        # seq went back (or repeated) while time moved on: the terminal rebooted
        state.epoch += 1
        state.restarts += 1
        state.max_seq, state.seen = seq, 1
        state.newest_ts = ts
        state.gapless = False
        return "restart"
    offset = state.max_seq - seq
    if offset >= SEQ_WINDOW:
        # too old to tell a redelivery from a straggler: dropping it is the safe side
        state.late += 1
        return "duplicate"
    if state.seen >> offset & 1:
        state.duplicates += 1
        return "duplicate"
    state.seen |= 1 << offset
    state.gaps = max(0, state.gaps - 1)
    state.late += 1
    return "late"
