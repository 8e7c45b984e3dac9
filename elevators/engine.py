"""The rule engine: `step(state, message, cfg) -> (state, events)` and `tick(state, cfg, now)`.

Pure and deterministic: no clock, no I/O; time is the terminal's `ts` (epoch ms). The
same functions run live traffic (the rules worker), replays and the scenario tests.

A status sample holds until the next one, so before a message at time t is applied every
deadline before t fires first, on the state as it was (a trapped timer started at t0
fires at t0 + 30 s even when the next sample comes at t0 + 60 s). `tick` fires deadlines
when no message comes: the worker calls it with its estimate of the device's clock.

For speed the state passed in is updated in place and returned; callers that need the
state as it was keep a copy (`copy_state`).
"""

from __future__ import annotations

import msgspec
from msgspec.structs import astuple

from brightwatch.elevators.config import RuleConfig
from brightwatch.elevators.inputs import AvailabilityIn, EventIn, Message, StatsIn, StatusIn
from brightwatch.elevators.rules import RuleEvent, controller_event, evaluate, offline_cleared
from brightwatch.elevators.state import FEATURE_NAMES, ElevatorState, Features, Sample, admit

# a deadline that keeps coming back at the same time would be a bug; never spin on it
MAX_EVALUATIONS_PER_ADVANCE = 10_000
ALARM_EVENT = "ALARM_BUTTON"


def new_state() -> ElevatorState:
    return ElevatorState()


def copy_state(state: ElevatorState) -> ElevatorState:
    return msgspec.json.decode(msgspec.json.encode(state), type=ElevatorState)


def step(
    state: ElevatorState, message: Message, cfg: RuleConfig
) -> tuple[ElevatorState, list[RuleEvent]]:
    events: list[RuleEvent] = []
    if isinstance(message, AvailabilityIn):
        return state, _availability(state, cfg, message)
    admission = admit(state, message.seq, message.ts)
    if admission == "duplicate":
        return state, events
    ts = message.ts
    events += advance(state, cfg, ts)
    state.last_msg_ts = max(state.last_msg_ts, ts)
    if state.online is not True:
        state.online = True
        state.since["online"] = ts
    if "OFFLINE" in state.emitted:
        events += offline_cleared(state, cfg, ts, "message received")
    if isinstance(message, StatusIn):
        if state.sample is None or ts >= state.sample.ts:
            if _apply_status(state, cfg, message) or (state.due is not None and state.due <= ts):
                events += evaluate(state, cfg, ts)
            else:
                # nothing a rule reads changed: the last evaluation still holds (most
                # samples: periodic reports, floors passing), only the clock moves on
                state.clock = max(state.clock, ts)
        else:
            # older than the car's current picture (delivered out of order)
            if admission != "late":
                state.late += 1
            _backdate(state, cfg, message)
            events += evaluate(state, cfg, state.clock)
    elif isinstance(message, EventIn):
        ev = message.event
        if ev.code == ALARM_EVENT:
            # the controller's alarm is the alarm button: same rule, same 30 s
            state.alarm_event = ev.state == "raise"
            if state.sample is not None:
                _refresh(state, cfg, max(ts, state.sample.ts))
                events += evaluate(state, cfg, max(ts, state.clock))
        else:
            events += controller_event(state, cfg, ts, ev.code, ev.state == "raise", ev.detail)
    elif isinstance(message, StatsIn):
        pass  # counters feed the maintenance planner; here they only prove the terminal alive
    return state, events


def tick(state: ElevatorState, cfg: RuleConfig, now: int) -> tuple[ElevatorState, list[RuleEvent]]:
    """Fire every deadline up to device time `now`."""
    return state, advance(state, cfg, now)


def advance(state: ElevatorState, cfg: RuleConfig, until: int) -> list[RuleEvent]:
    events: list[RuleEvent] = []
    for _ in range(MAX_EVALUATIONS_PER_ADVANCE):
        if state.due is None or state.due > until:
            break
        events += evaluate(state, cfg, state.due)
    return events


def _availability(state: ElevatorState, cfg: RuleConfig, msg: AvailabilityIn) -> list[RuleEvent]:
    events = advance(state, cfg, msg.ts)
    if msg.online == state.online:
        return events
    state.online = msg.online
    state.since["online"] = msg.ts
    if msg.online:
        if "OFFLINE" in state.emitted:
            events += offline_cleared(state, cfg, msg.ts, "terminal back online")
    else:
        events += evaluate(state, cfg, max(msg.ts, state.clock))
    return events


def sample_of(msg: StatusIn) -> Sample:
    s = msg.status
    return Sample(
        ts=msg.ts,
        seq=msg.seq,
        service_mode=s.service_mode,
        run_state=s.run_state,
        floor=s.floor,
        door_zone=s.door_zone,
        door_state=s.door_state,
        has_person=s.has_person,
        speed=s.speed,
        direction=s.direction,
        load_pct=s.load_pct,
        power_source=s.power_source,
        safety_circuit=s.safety_circuit,
        alarm_button=s.alarm_button,
        up_limit=s.up_limit,
        down_limit=s.down_limit,
    )


def features(smp: Sample, cfg: RuleConfig, alarm_event: bool = False) -> Features:
    stopped = smp.run_state == "stopped" or smp.speed < cfg.stopped_speed
    moving = not stopped
    lo, hi = cfg.floor_min, cfg.floor_max
    door = smp.door_state
    return Features(
        mode=smp.service_mode,
        supervised=smp.service_mode in cfg.supervised,
        motion=smp.service_mode in cfg.motion,
        stopped=stopped,
        zone=smp.door_zone,
        door=door,
        closed=door == "closed",
        door_open=door in ("open", "opening"),
        person=smp.has_person,
        battery=smp.power_source == "battery",
        safety_open=smp.safety_circuit == "open",
        alarm=bool(smp.alarm_button) or alarm_event,
        up_limit=bool(smp.up_limit),
        down_limit=bool(smp.down_limit),
        above_top=hi is not None and smp.floor > hi and moving and smp.direction != "down",
        below_bottom=lo is not None and smp.floor < lo and moving and smp.direction != "up",
        floor_ok=(lo is None or smp.floor >= lo) and (hi is None or smp.floor <= hi),
        over_p2=smp.speed >= cfg.over_p2_speed,
        over_p1=smp.speed >= cfg.over_p1_speed,
    )


def _refresh(state: ElevatorState, cfg: RuleConfig, ts: int) -> tuple[Features | None, Features]:
    """Recompute the features of the current sample; note when each took its value."""
    assert state.sample is not None
    old = state.features
    new = features(state.sample, cfg, state.alarm_event)
    since = state.since
    if old is None:
        for name in FEATURE_NAMES:
            since[name] = ts
    elif old != new:
        for name, was, now in zip(FEATURE_NAMES, astuple(old), astuple(new), strict=True):
            if was != now:
                since[name] = ts
    if new.alarm and (old is None or not old.alarm):
        state.alarm_pressed_at = ts
    state.features = new
    return old, new


def _apply_status(state: ElevatorState, cfg: RuleConfig, msg: StatusIn) -> bool:
    """Take a sample in; True when anything the rules read changed."""
    ts = msg.ts
    prev = state.sample
    run_started_at = state.since.get("stopped", ts)
    smp = sample_of(msg)
    state.sample = smp
    pf, f = _refresh(state, cfg, ts)

    # where the car was when its doors left closed: at rest (UCM if it then moves) or
    # running fast outside the zone (DOOR_OPEN_RUN)
    if f.closed:
        state.door_origin = ""
    elif pf is None or pf.closed or not state.door_origin:
        fast_out = not f.stopped and not f.zone and smp.speed > cfg.door_open_run_speed
        state.door_origin = "run" if fast_out else "rest"

    # UCM: doors not closed and the car leaves the zone, or moves faster than 0.3 m/s,
    # in consecutive samples; re-levelling (slow, inside the zone) is allowed. Movement
    # is the measured speed: an unintended movement is one the controller did not
    # command, so run_state still says stopped
    drifting = smp.speed >= cfg.stopped_speed
    ucm = (
        f.motion
        and not f.closed
        and state.door_origin == "rest"
        and ((not f.zone and drifting) or smp.speed > cfg.ucm_speed)
    )
    if ucm:
        state.ucm_count += 1
        if state.ucm_count == 1:
            state.ucm_first = ts
    else:
        state.ucm_count = 0

    # trips: a run that leaves the door zone; door cycles and failed openings count per stop
    if pf is not None and pf.zone and not f.zone and not f.stopped:
        state.cycles = []
        state.open_tries = 0
    if pf is not None and pf.stopped and not f.stopped:
        state.run_floor = prev.floor if prev is not None else smp.floor
    if pf is not None and not pf.stopped and f.stopped:
        duration = ts - run_started_at
        if (
            duration <= cfg.runtime_ms
            and state.run_floor is not None
            and smp.floor != state.run_floor
        ):
            state.trip_end = ts
        state.run_floor = None

    # door cycles (opening starts) while watched; the inspection door tests do not count
    if f.supervised and not f.battery:
        if pf is not None and pf.door in ("closed", "closing") and f.door_open:
            state.cycles.append(ts)
        window = cfg.cycles_window_ms
        if len(state.cycles) > 1 and state.cycles[0] <= ts - window:
            kept = [t for t in state.cycles if t > ts - window]
            state.cycles = kept or state.cycles[-1:]
    else:
        state.cycles = []

    # failed openings: an opening that falls back to closing/closed without reaching open
    if f.door == "opening" and (pf is None or pf.door != "opening"):
        state.opening = True
    if f.door == "open":
        state.opening = False
        state.open_tries = 0
    elif state.opening and f.door in ("closing", "closed"):
        state.opening = False
        state.open_tries += 1

    # a jump of more than one floor between samples 1 s apart; skipped across a seq gap,
    # where the floors in between may simply be missing
    jumped = (
        prev is not None
        and state.gapless
        and 0 <= ts - prev.ts <= cfg.jump_window_ms
        and abs(smp.floor - prev.floor) > 1
    )
    if jumped:
        state.floor_jump_at = ts
    state.gapless = True

    state.recent.append(smp)
    if len(state.recent) > cfg.evidence:
        del state.recent[: len(state.recent) - cfg.evidence]
    return pf != f or ucm or jumped


def _backdate(state: ElevatorState, cfg: RuleConfig, msg: StatusIn) -> None:
    """A sample that arrives after newer ones may show a condition began earlier.

    The evidence ring is re-sorted with it; a feature whose current value already held
    in the late sample (and in every later one) gets the earlier start, so a timer counts
    from when the condition really began. Starts only ever move earlier: a late sample
    never cancels a timer or an alert, and transitions (door cycles, UCM samples) are
    not replayed.
    """
    current = state.features
    if current is None:
        return
    ring = sorted([*state.recent, sample_of(msg)], key=lambda smp: (smp.ts, smp.seq))
    state.recent = ring[-cfg.evidence :]
    derived = [features(smp, cfg, state.alarm_event) for smp in ring]
    since = state.since
    for name in FEATURE_NAMES:
        value = getattr(current, name)
        earliest: int | None = None
        for smp, f in zip(reversed(ring), reversed(derived), strict=True):
            if getattr(f, name) != value:
                break
            earliest = smp.ts
        if earliest is not None and earliest < since.get(name, earliest + 1):
            since[name] = earliest
