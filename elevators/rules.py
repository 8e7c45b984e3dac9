"""The fault catalogue of ../shared/spec/elevators.md as rules over the current features.

`evaluate(state, cfg, now)` looks at the car as its last status sample showed it (a
sample holds until the next one: terminals report on every change) and at the time the
features took their values (`state.since`), raises what has held long enough, clears
what has ended, and leaves in `state.due` the earliest time at which the answer could
change without a new message. A rule may be made of several sources (`CODE/sub`,
`CODE/controller`); the alert core is told once per code: raised when the first source
raises (again when the severity escalates), cleared when the last one clears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from brightwatch.contract.codes import ELEVATOR_CATALOGUE, SEVERITY_RANK, Severity
from brightwatch.elevators.config import RuleConfig
from brightwatch.elevators.state import ElevatorState, Emitted, Features, RuleState, Sample

MODE_CHANGE = "MODE_CHANGE"
OFFLINE = "OFFLINE"
TRAPPED = ("TRAPPED_OUT_ZONE", "TRAPPED_IN_ZONE")
# controller events the catalogue names (interfaces.md, Elevator event)
CONTROLLER_CODES = frozenset(
    {
        "SAFETY_CIRCUIT",
        "DOOR_CLOSE_FAIL",
        "DOOR_OPEN_FAIL",
        "RUNTIME_LIMITER",
        "RESTART_BLOCK",
        "FLOOR_LOST",
        "UCM",
        "ALARM_BUTTON",
    }
)


def _catalogue_severity(code: str) -> str:
    """The catalogue's severity of a code; INFO for a code it does not name (a controller
    event passed through)."""
    entry = ELEVATOR_CATALOGUE.get(code)
    return entry.severity.value if entry else Severity.INFO.value


@dataclass(frozen=True, slots=True)
class RuleEvent:
    """A code raised or cleared, for the alert core."""

    code: str
    active: bool
    severity: str
    at: int  # ms: when the condition began (raise) or ended (clear)
    confirmed_at: int  # ms: when the rule decided (the deadline, or the deciding sample)
    summary: str  # in the deployment's language (RuleConfig.locale)
    details: dict[str, Any]
    summaries: dict[str, str] = field(default_factory=dict)  # in every language


@dataclass(slots=True)
class _Change:
    key: str
    raised: bool
    at: int
    confirmed: int
    why: str


@dataclass(slots=True)
class _Pass:
    """One evaluation: where deadlines and changes are collected."""

    state: ElevatorState
    cfg: RuleConfig
    now: int
    dues: list[int] = field(default_factory=list)
    urgent: list[int] = field(default_factory=list)  # deadlines of life-safety (P1) rules
    changes: list[_Change] = field(default_factory=list)

    def rule(self, key: str) -> RuleState | None:
        return self.state.rules.get(key)

    def is_active(self, key: str) -> bool:
        return key in self.state.rules  # only active rules are kept

    def code_active(self, code: str) -> bool:
        return code in self.state.emitted

    def raise_after(
        self,
        key: str,
        cond: bool,
        since: int,
        window: int,
        why: str,
        *,
        severity: str | None = None,
    ) -> None:
        """Raise `key` once `cond` has held from `since` for `window` ms, at the severity
        the catalogue gives its code unless the rule says otherwise."""
        if not cond or self.is_active(key):
            return
        code = key.split("/", 1)[0]
        if code in self.cfg.disabled:
            return
        severity = severity or _catalogue_severity(code)
        ready = since + window
        if self.now >= ready:
            self.state.rules[key] = RuleState(True, since, severity, why)
            # evaluation runs at every deadline, so `now` is when the rule decided
            self.changes.append(_Change(key, True, since, self.now, why))
        else:
            self.dues.append(ready)
            if severity == Severity.P1:
                self.urgent.append(ready)

    def clear_after(self, key: str, cond: bool, since: int, window: int, why: str) -> None:
        """Clear active `key` once `cond` has held from `since` for `window` ms."""
        r = self.state.rules.get(key)
        if r is None or not r.active or not cond:
            return
        ready = since + window
        if self.now >= ready:
            del self.state.rules[key]
            self.changes.append(_Change(key, False, max(since, r.started), self.now, why))
        else:
            self.dues.append(ready)

    def drop(self, key: str, at: int, why: str) -> None:
        r = self.state.rules.pop(key, None)
        if r is not None and r.active:
            self.changes.append(_Change(key, False, max(at, r.started), self.now, why))


def _held(since: dict[str, int], *names: str) -> int:
    """When all the named features took their current values (the latest of them)."""
    return max(map(since.__getitem__, names))


# ---------------------------------------------------------------- the rules
# Each rule first looks whether it is active (then only its clearing matters) and
# computes the start of its condition only when the condition holds: most samples of
# most cars touch no rule at all, and this runs for every one of them.


def _power_fail(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key = "POWER_FAIL"
    if p.is_active(key):
        if not f.battery:
            p.clear_after(key, True, s["battery"], 0, "mains power back")
    elif f.battery:
        # elevators.md: on battery >= 5 s
        p.raise_after(key, True, s["battery"], p.cfg.power_fail_ms, "on battery power")


def _mode_change(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key = MODE_CHANGE
    r = p.rule(key)
    if f.mode != "normal":
        if r is None:
            p.raise_after(key, True, s["mode"], 0, f.mode)
        elif r.note != f.mode:
            # one special mode to another: the same record, updated with the new mode
            r.note = f.mode
            p.changes.append(_Change(key, True, s["mode"], p.now, f.mode))
    elif r is not None:
        p.clear_after(key, True, s["mode"], 0, "back to normal service")


def _power_fail_at_once(p: _Pass) -> bool:
    return p.cfg.thresholds.power_fail_trapped_at_once and p.is_active("POWER_FAIL")


def _trapped_clear(p: _Pass, key: str, f: Features, s: dict[str, int]) -> None:
    # elevators.md: a trapped fault clears when the door opens in the zone or the person leaves
    if f.zone and f.door_open:
        p.clear_after(key, True, _held(s, "zone", "door_open"), 0, "door opened at a landing")
    elif not f.person:
        p.clear_after(key, True, s["person"], p.cfg.trapped_clear_ms, "person left")


def _trapped_out_zone(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key = "TRAPPED_OUT_ZONE"
    if p.is_active(key):
        _trapped_clear(p, key, f, s)
        return
    if not (f.supervised and f.stopped and not f.zone and f.person):
        return
    since = _held(s, "supervised", "stopped", "zone", "person")
    window = p.cfg.trapped_out_ms
    why = f"stopped outside the door zone with a person inside for {window // 1000} s"
    if f.alarm:
        window, why = 0, "stopped outside the door zone, a person inside pressed the alarm button"
    elif _power_fail_at_once(p):
        window, why = 0, "stopped outside the door zone with a person inside during a power failure"
    p.raise_after(key, True, since, window, why)


def _trapped_in_zone(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key, st = "TRAPPED_IN_ZONE", p.state
    if p.is_active(key):
        _trapped_clear(p, key, f, s)
        return
    if not (f.supervised and f.stopped and f.zone and f.closed and f.person):
        return
    since = _held(s, "supervised", "stopped", "zone", "closed", "person")
    window = p.cfg.trapped_in_ms
    why = f"stopped at a landing, doors closed, a person inside, no run for {window // 1000} s"
    if f.alarm or st.alarm_pressed_at >= since:
        # alarm pressed during the condition: >= 10 s, and not before the press
        pressed = st.alarm_pressed_at if st.alarm_pressed_at >= since else since
        window = max(p.cfg.trapped_in_alarm_ms, pressed - since)
        why = "stopped at a landing, doors closed, a person inside pressed the alarm button"
    if _power_fail_at_once(p) and window > p.cfg.trapped_in_alarm_ms:
        # on battery there is no run to wait for; the rescue device opens the doors within
        # seconds of reaching a landing, so the short (alarm) window applies
        window = p.cfg.trapped_in_alarm_ms
        why = "stopped at a landing, doors closed, a person inside during a power failure"
    p.raise_after(key, True, since, window, why)


def _absorb_alarm(p: _Pass, f: Features) -> None:
    # an alarm press inside a trapped alert is part of that alert, not an alarm of its own
    if f.alarm and any(p.code_active(c) or p.is_active(c) for c in TRAPPED):
        p.state.alarm_absorbed = p.state.alarm_pressed_at


# faults that stop a car between floors by themselves: the stop is their consequence
STOP_EXPLAINED_BY = (
    "OVERTRAVEL_TOP",
    "OVERTRAVEL_BOTTOM",
    "UCM",
    "DOOR_OPEN_RUN",
    "SAFETY_CIRCUIT",
    "RUNTIME_LIMITER",
)


def _stop_out_zone(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key, st = "STOP_OUT_ZONE", p.state
    if p.is_active(key):
        if p.is_active("TRAPPED_OUT_ZONE"):
            # elevators.md: becomes a trapped fault when a person is inside
            p.drop(key, p.now, "became TRAPPED_OUT_ZONE")
        elif not (f.stopped and not f.zone):
            p.clear_after(key, True, _held(s, "stopped", "zone"), 0, "car moved")
        return
    if not (f.supervised and f.stopped and not f.zone):
        return
    since = _held(s, "supervised", "stopped", "zone")
    if any(p.code_active(c) for c in STOP_EXPLAINED_BY):
        st.stop_explained = since
    if (
        f.person
        or st.stop_explained == since
        or p.is_active("TRAPPED_OUT_ZONE")
        or _battery_inhibits(p, key, f)
    ):
        return
    if key in p.cfg.inhibit_on_battery:
        # an outage stopped the car: the stop counts from mains back, if it lasts
        since = max(since, s["battery"])
    p.raise_after(
        key,
        True,
        since,
        p.cfg.stop_out_ms,
        f"stopped outside the door zone for {p.cfg.stop_out_ms // 1000} s",
    )


def _battery_inhibits(p: _Pass, code: str, f: Features) -> bool:
    # elevators.md: while POWER_FAIL is active, door faults caused by the outage are inhibited
    return f.battery and code in p.cfg.inhibit_on_battery


def _ucm(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key, st = "UCM", p.state
    if p.is_active(key):
        if f.closed and f.stopped:
            p.clear_after(key, True, _held(s, "closed", "stopped"), 0, "doors closed, car stopped")
    elif st.ucm_count >= p.cfg.ucm_samples:
        p.raise_after(key, True, st.ucm_first, 0, "the car moved with doors not closed")


def _door_open_run(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key = "DOOR_OPEN_RUN"
    if p.is_active(key):
        if f.closed:
            p.clear_after(key, True, s["closed"], 0, "doors closed")
    elif f.motion and not f.closed and p.state.door_origin == "run":
        p.raise_after(key, True, s["closed"], 0, "a door opened while running outside the zone")


def _overtravel(p: _Pass, f: Features, s: dict[str, int]) -> None:
    for key, limit, beyond, limit_name, beyond_name in (
        ("OVERTRAVEL_TOP", f.up_limit, f.above_top, "up_limit", "above_top"),
        ("OVERTRAVEL_BOTTOM", f.down_limit, f.below_bottom, "down_limit", "below_bottom"),
    ):
        if p.is_active(key):
            if not limit and not beyond:
                p.clear_after(
                    key,
                    True,
                    _held(s, limit_name, beyond_name),
                    0,
                    "limit switch released, car back in range",
                )
        elif limit:
            p.raise_after(key, True, s[limit_name], 0, "final limit switch active")
        elif beyond:
            p.raise_after(key, True, s[beyond_name], 0, "moving beyond the end floor")


def _overspeed(p: _Pass, f: Features, s: dict[str, int]) -> None:
    # elevators.md: >= 1.10 x rated for >= 1 s -> P2; >= 1.15 x rated -> P1. The catalogue
    # gives OVERSPEED its worst severity (P1); the lesser P2 stage is the one rule whose
    # severity is not the catalogue's, so it is spelled here.
    for key, over, name, severity, why in (
        ("OVERSPEED", f.over_p2, "over_p2", Severity.P2.value, "above 110 % of rated speed"),
        ("OVERSPEED/p1", f.over_p1, "over_p1", None, "above 115 % of rated speed"),
    ):
        if p.is_active(key):
            if not f.over_p2:
                p.clear_after(key, True, s["over_p2"], 0, "speed back below 110 %")
        elif over:
            p.raise_after(key, True, s[name], p.cfg.overspeed_ms, why, severity=severity)


def _safety_circuit(p: _Pass, f: Features, s: dict[str, int]) -> None:
    # elevators.md: open while running (any mode), or open >= 5 s in normal mode
    for key in ("SAFETY_CIRCUIT/running", "SAFETY_CIRCUIT"):
        if p.is_active(key) and not f.safety_open:
            p.clear_after(key, True, s["safety_open"], 0, "safety circuit closed")
    if not f.safety_open:
        return
    if not f.stopped:
        p.raise_after(
            "SAFETY_CIRCUIT/running",
            True,
            _held(s, "safety_open", "stopped"),
            0,
            "safety circuit opened while running",
        )
    if f.supervised:
        p.raise_after(
            "SAFETY_CIRCUIT",
            True,
            _held(s, "safety_open", "supervised"),
            p.cfg.safety_open_ms,
            f"safety circuit open for {p.cfg.safety_open_ms // 1000} s",
        )


def _watched_since(p: _Pass, code: str, f: Features, s: dict[str, int]) -> int | None:
    """Start of the watch of a door rule, or None when the mode or an outage suspends it."""
    if not f.supervised or _battery_inhibits(p, code, f):
        return None
    if code in p.cfg.inhibit_on_battery:
        return max(s["supervised"], s["battery"])
    return s["supervised"]


def _door_close_fail(p: _Pass, f: Features, s: dict[str, int]) -> None:
    code = "DOOR_CLOSE_FAIL"
    for key in (code, code + "/open"):
        if p.is_active(key) and f.closed:
            p.clear_after(key, True, s["closed"], 0, "door closed")
    if f.closed:
        return
    watch = _watched_since(p, code, f, s)
    if watch is None:
        return
    if f.door == "closing":
        p.raise_after(
            code,
            True,
            max(s["door"], watch),
            p.cfg.closing_ms,
            f"door still closing after {p.cfg.closing_ms // 1000} s",
        )
    p.raise_after(
        code + "/open",
        True,
        max(s["closed"], watch),
        p.cfg.open_max_ms,
        f"door open for more than {p.cfg.open_max_ms // 1000} s",
    )


def _door_open_fail(p: _Pass, f: Features, s: dict[str, int]) -> None:
    code, st = "DOOR_OPEN_FAIL", p.state
    opened = f.door == "open"
    for key in (code, code + "/tries"):
        if opened and p.is_active(key):
            p.clear_after(key, True, s["door"], 0, "door opened")
    if opened:
        return
    opening = f.stopped and f.zone and f.door == "opening"
    tries = st.open_tries >= p.cfg.door_open_tries
    if not (opening or tries):
        return
    watch = _watched_since(p, code, f, s)
    if watch is None:
        return
    if opening:
        p.raise_after(
            code,
            True,
            max(_held(s, "stopped", "zone", "door"), watch),
            p.cfg.opening_ms,
            f"door still opening after {p.cfg.opening_ms // 1000} s",
        )
    if tries:
        p.raise_after(code + "/tries", True, p.now, 0, f"door failed to open {st.open_tries} times")


def _door_cycling(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key, st, cfg = "DOOR_CYCLING", p.state, p.cfg
    if p.is_active(key):
        if not st.cycles:
            p.clear_after(key, True, p.now, 0, "the car ran")
        else:
            quiet = st.cycles[-1] + cfg.cycles_window_ms
            p.clear_after(key, True, quiet, 0, "no door cycle for a window")
        return
    if len(st.cycles) < cfg.door_cycles:
        return
    recent = [t for t in st.cycles if t > p.now - cfg.cycles_window_ms]
    if len(recent) >= cfg.door_cycles:
        p.raise_after(
            key,
            True,
            recent[-cfg.door_cycles],
            0,
            f"{len(recent)} door cycles within {cfg.cycles_window_ms // 1000} s without a run",
        )


def _runtime_limiter(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key, st = "RUNTIME_LIMITER", p.state
    r = p.rule(key)
    if r is not None and r.active:
        # the cause is gone once the car completes a normal trip again
        if st.trip_end > r.started:
            p.clear_after(key, True, st.trip_end, 0, "a normal run completed")
    elif f.supervised and not f.stopped:
        p.raise_after(
            key,
            True,
            _held(s, "supervised", "stopped"),
            p.cfg.runtime_ms,
            f"one run longer than {p.cfg.runtime_ms / 1000:.0f} s",
        )


def _floor_lost(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key, st = "FLOOR_LOST", p.state
    for k in (key, key + "/range"):
        if f.floor_ok and p.is_active(k):
            plausible_since = max(s["floor_ok"], st.floor_jump_at)
            p.clear_after(
                k, True, plausible_since, p.cfg.floor_lost_clear_ms, "floor plausible again"
            )
    if not f.motion:
        return
    if not f.floor_ok and not (f.above_top or f.below_bottom):
        p.raise_after(key + "/range", True, s["floor_ok"], 0, "floor outside the range")
    if st.floor_jump_at > 0 and st.floor_jump_at >= p.now:
        p.raise_after(key, True, st.floor_jump_at, 0, "floor jumped by more than one")


def _alarm_button(p: _Pass, f: Features, s: dict[str, int]) -> None:
    key, st, cfg = "ALARM_BUTTON", p.state, p.cfg
    if not f.alarm:
        for k in (key, key + "/running"):
            if p.is_active(k):
                p.clear_after(k, True, s["alarm"], 0, "alarm cleared")
        return
    if not f.supervised or st.alarm_pressed_at == st.alarm_absorbed:
        return
    if any(p.is_active(c) for c in TRAPPED):
        return
    since = _held(s, "alarm", "stopped", "supervised")
    if f.stopped:
        # elevators.md: pressed while stopped -> P1 after 30 s unless cleared
        p.raise_after(
            key,
            True,
            since,
            cfg.alarm_ms,
            f"alarm button active in a stopped car for {cfg.alarm_ms // 1000} s",
        )
    else:
        # pressed while running normally -> logged
        p.raise_after(
            key + "/running",
            True,
            since,
            0,
            "alarm button pressed during a normal run",
            severity=cfg.thresholds.alarm_running_severity,  # a setting (elevators.md: logged)
        )


def _offline(p: _Pass) -> None:
    st = p.state
    if st.last_msg_ts == 0:
        return
    if not p.is_active(OFFLINE):
        p.raise_after(
            OFFLINE,
            True,
            st.last_msg_ts,
            p.cfg.offline_ms,
            f"no message for {p.cfg.offline_ms // 1000} s",
        )
    if st.online is False and not p.is_active(OFFLINE + "/will"):
        p.raise_after(
            OFFLINE + "/will", True, st.since.get("online", p.now), 0, "terminal reported offline"
        )


def _offline_clear(p: _Pass, at: int, why: str) -> None:
    for key in (OFFLINE, OFFLINE + "/will"):
        p.clear_after(key, True, at, 0, why)


RULES = (
    _power_fail,
    _mode_change,
    _trapped_out_zone,
    _trapped_in_zone,
    _stop_out_zone,
    _ucm,
    _door_open_run,
    _overtravel,
    _overspeed,
    _safety_circuit,
    _door_close_fail,
    _door_open_fail,
    _door_cycling,
    _runtime_limiter,
    _floor_lost,
    _alarm_button,
)


# ---------------------------------------------------------------- evaluation


def evaluate(state: ElevatorState, cfg: RuleConfig, now: int) -> list[RuleEvent]:
    """Run every rule at device time `now`; returns what the alert core must be told."""
    p = _Pass(state, cfg, now)
    _offline(p)
    f, s = state.features, state.since
    if f is not None:
        for rule in RULES:
            rule(p, f, s)
        _absorb_alarm(p, f)
    state.clock = max(state.clock, now)
    state.due = min(p.dues) if p.dues else None
    state.urgent_due = min(p.urgent) if p.urgent else None
    return reconcile(p)


def controller_event(
    state: ElevatorState, cfg: RuleConfig, ts: int, code: str, raised: bool, detail: str | None
) -> list[RuleEvent]:
    """A condition the controller reports itself (interfaces.md, Elevator event)."""
    p = _Pass(state, cfg, max(ts, state.clock))
    known = code in ELEVATOR_CATALOGUE
    if not known and cfg.thresholds.unknown_events == "ignore":
        return []
    key = f"{code}/controller"
    why = f"controller reports {code}" + (f": {detail}" if detail else "")
    if raised:
        severity = _catalogue_severity(code)
        if not p.is_active(key) and code not in cfg.disabled:
            state.rules[key] = RuleState(True, ts, severity, why)
            p.changes.append(_Change(key, True, ts, p.now, why))
    else:
        p.drop(key, ts, f"controller cleared {code}")
    return reconcile(p)


def offline_cleared(state: ElevatorState, cfg: RuleConfig, ts: int, why: str) -> list[RuleEvent]:
    p = _Pass(state, cfg, max(ts, state.clock))
    _offline_clear(p, ts, why)
    return reconcile(p)


def _severity(code: str, rules: list[RuleState]) -> str:
    if not rules:
        return _catalogue_severity(code)
    return min((r.severity for r in rules), key=lambda sev: SEVERITY_RANK.get(sev, 9))


def reconcile(p: _Pass) -> list[RuleEvent]:
    """Turn the changes of rule sources into raise/clear events, one code at a time."""
    if not p.changes:
        return []
    state = p.state
    events: list[RuleEvent] = []
    for code in dict.fromkeys(c.key.split("/", 1)[0] for c in p.changes):
        mine = [c for c in p.changes if c.key.split("/", 1)[0] == code]
        active = [r for k, r in state.rules.items() if r.active and k.split("/", 1)[0] == code]
        emitted = state.emitted.get(code)
        if active:
            severity = _severity(code, active)
            label = active[0].note if code == MODE_CHANGE else ""
            raised = [c for c in mine if c.raised]
            if emitted is None:
                first = min(raised, key=lambda c: c.at) if raised else mine[0]
                at = min(r.started for r in active)
                state.emitted[code] = Emitted(severity, at, label)
                events.append(_event(p, code, True, severity, at, first.confirmed, first.why))
            elif SEVERITY_RANK.get(severity, 9) < SEVERITY_RANK.get(emitted.severity, 9) or (
                code == MODE_CHANGE and label != emitted.label
            ):
                last = raised[-1] if raised else mine[-1]
                emitted.severity, emitted.label = severity, label
                events.append(_event(p, code, True, severity, emitted.at, last.confirmed, last.why))
        elif emitted is not None:
            cleared = [c for c in mine if not c.raised]
            last = max(cleared, key=lambda c: c.at) if cleared else mine[-1]
            del state.emitted[code]
            events.append(
                _event(p, code, False, emitted.severity, last.at, last.confirmed, last.why, emitted)
            )
    return events


def _sample_dict(sample: Sample) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(sample).items() if v is not None}


def _event(
    p: _Pass,
    code: str,
    active: bool,
    severity: str,
    at: int,
    confirmed: int,
    why: str,
    emitted: Emitted | None = None,
) -> RuleEvent:
    from brightwatch.elevators.summaries import summaries

    state = p.state
    texts = summaries(code, active, why, state.sample, p.cfg)
    evidence = [_sample_dict(s) for s in state.recent if s.ts <= max(confirmed, at)]
    details: dict[str, Any]
    if active:
        details = {
            "rule": why,
            "confirmed_at_ms": confirmed,
            "samples": evidence,
            "seq_gaps": state.gaps,
        }
    else:
        started = emitted.at if emitted else at
        details = {
            "cleared_by": why,
            "duration_s": round(max(0, at - started) / 1000, 3),
            "samples_at_clear": evidence[-3:],
        }
    return RuleEvent(
        code=code,
        active=active,
        severity=severity,
        at=at,
        confirmed_at=confirmed,
        summary=texts[p.cfg.locale],
        details=details,
        summaries=texts,
    )
