"""The engine's bookkeeping: duplicates, gaps, reboots, saved state, determinism."""

from __future__ import annotations

from dataclasses import replace

import msgspec

from brightwatch.contract.payloads import ElevatorStatus
from brightwatch.edge.elevator_sim.scenarios import load_scenario, to_trace
from brightwatch.elevators.config import RuleConfig, runtime_limit_s
from brightwatch.elevators.engine import copy_state, new_state, step, tick
from brightwatch.elevators.inputs import StatusIn
from brightwatch.elevators.replay import decode
from brightwatch.elevators.settings import Thresholds
from brightwatch.elevators.state import admit, decode_state, encode_state

T0 = 1_763_800_000_000
CFG = RuleConfig.build(Thresholds(floor_min=-1, floor_max=17, rated_speed_m_s=1.75))
BASE = {
    "service_mode": "normal",
    "run_state": "stopped",
    "floor": 3,
    "door_zone": True,
    "door_state": "closed",
    "has_person": False,
    "speed": 0.0,
}


def status(t: float, seq: int, **fields: object) -> StatusIn:
    ts = T0 + round(t * 1000)
    return StatusIn(
        ts, seq, msgspec.convert({"ts": ts, "seq": seq, **BASE, **fields}, ElevatorStatus)
    )


def test_admit_counts_gaps_duplicates_late_and_restarts() -> None:
    st = new_state()
    assert admit(st, 10, T0) == "new"
    assert admit(st, 11, T0 + 1) == "new"
    assert admit(st, 15, T0 + 5) == "new" and st.gaps == 3
    assert admit(st, 11, T0 + 1) == "duplicate" and st.duplicates == 1
    assert admit(st, 13, T0 + 3) == "late" and st.gaps == 2  # a late arrival gives its gap back
    assert admit(st, 13, T0 + 3) == "duplicate"
    assert admit(st, 0, T0 + 60_000) == "restart" and st.restarts == 1 and st.epoch == 1
    assert admit(st, 1, T0 + 61_000) == "new" and st.gaps == 2  # counting from 0 again
    assert admit(st, 1, T0 + 61_000) == "duplicate"


def test_state_survives_encoding_exactly() -> None:
    trace = to_trace(load_scenario("trapped_out_zone"))
    st = new_state()
    half = len(trace.messages) // 2
    for m in trace.messages[:half]:
        st, _ = step(st, decode(m.channel, m.body(), m.ts_ms(trace.t0)), CFG)
    restored = decode_state(encode_state(st))
    assert restored == st
    # and the restored state goes on exactly as the original would have
    rest = [decode(m.channel, m.body(), m.ts_ms(trace.t0)) for m in trace.messages[half:]]
    a, b = copy_state(st), restored
    out_a, out_b = [], []
    for msg in rest:
        a, ea = step(a, msg, CFG)
        b, eb = step(b, msg, CFG)
        out_a += ea
        out_b += eb
    assert out_a == out_b and a == b


def test_timer_is_a_deadline_in_the_state() -> None:
    st = new_state()
    st, _ = step(st, status(0, 0, has_person=True, door_zone=False), CFG)
    assert st.due is not None and st.due == T0 + 30_000
    st, events = tick(st, CFG, T0 + 29_999)
    assert events == []
    st, events = tick(st, CFG, T0 + 30_000)
    assert [(e.code, e.active, e.at, e.confirmed_at) for e in events] == [
        ("TRAPPED_OUT_ZONE", True, T0, T0 + 30_000)
    ]
    st, events = tick(st, CFG, T0 + 90_000)
    assert events == []  # fired once


def test_late_message_fires_missed_deadline_at_its_time() -> None:
    """No tick at all: the next sample 60 s later still reports the alert as confirmed at
    t0 + 30 s, evaluated on the car as it was before that sample."""
    st = new_state()
    st, _ = step(st, status(0, 0, has_person=True, door_zone=False), CFG)
    st, events = step(st, status(60, 1, has_person=False, door_zone=False), CFG)
    raised = [e for e in events if e.active]
    assert [(e.code, e.confirmed_at) for e in raised] == [("TRAPPED_OUT_ZONE", T0 + 30_000)]


def test_evidence_is_the_samples_before_the_event() -> None:
    st = new_state()
    st, _ = step(
        st, status(0, 0, run_state="running", speed=1.5, door_zone=False, has_person=True), CFG
    )
    st, _ = step(st, status(2, 1, door_zone=False, has_person=True), CFG)
    st, events = tick(st, CFG, T0 + 40_000)
    (event,) = events
    samples = event.details["samples"]
    assert [s["ts"] for s in samples] == [T0, T0 + 2000]
    assert samples[-1]["run_state"] == "stopped" and samples[-1]["has_person"] is True
    # the deployment's language (zh-CN by default), the code verbatim beside its name
    assert event.summary.startswith("TRAPPED_OUT_ZONE 非平层困人，3 层：")
    # English: the same event with an English-reading deployment's configuration
    st = new_state()
    en = replace(CFG, locale="en")
    st, _ = step(
        st, status(0, 0, run_state="running", speed=1.5, door_zone=False, has_person=True), en
    )
    st, _ = step(st, status(2, 1, door_zone=False, has_person=True), en)
    st, events = tick(st, en, T0 + 40_000)
    (event,) = events
    assert event.summary.startswith("TRAPPED_OUT_ZONE Passenger trapped between floors at floor 3")


def test_runtime_limit_follows_the_travel() -> None:
    assert runtime_limit_s(Thresholds()) == 45  # unknown building: the catalogue's 45 s
    tall = Thresholds(floor_min=-1, floor_max=17, rated_speed_m_s=1.75)
    assert abs(runtime_limit_s(tall) - 43.045) < 0.01  # 54 m at 1.75 m/s + ramp + 10 s
    low = Thresholds(floor_min=1, floor_max=3, rated_speed_m_s=1.0)
    assert runtime_limit_s(low) == 20  # GB 7588: never below 20 s
