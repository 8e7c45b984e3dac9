"""The rules worker against a real PostgreSQL: batches, timers, flaps, redelivery, failures.

Messages are handed to `RulesWorker.handle` as the MQTT consumer would (tests on the
real broker are in test_end_to_end.py); the worker's clock is a test clock so timers
fire exactly when the test says.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from brightwatch.alerts.settings import AlertSettings
from brightwatch.alerts.store import AlertStore
from brightwatch.db.connect import make_pool
from brightwatch.edge.elevator_sim.trace import Trace, load
from brightwatch.elevators.settings import ElevatorSettings
from brightwatch.elevators.state import decode_state
from brightwatch.elevators.worker import RulesWorker
from brightwatch.mqttlink.consumer import Inbound

SCENARIOS = Path(__file__).parent / "scenarios"
ROOT = "bw"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def inbound(trace: Trace, index: int, latency_ms: int = 40) -> Inbound:
    m = trace.messages[index]
    ts = m.ts_ms(trace.t0)
    return Inbound(
        topic=f"{ROOT}/elevators/{trace.elevator}/{m.channel}",
        payload=m.body(),
        received_at=datetime.fromtimestamp((ts + latency_ms) / 1000, UTC),
        user_ts=None,
        retain=False,
        mid=index + 1,
        qos=1,
        generation=1,
    )


_POOLS: list[ConnectionPool] = []


@pytest.fixture(autouse=True)
def _close_pools() -> Iterator[None]:
    """Pools made by make_worker are closed after each test, not left to the collector."""
    yield
    while _POOLS:
        _POOLS.pop().close()


def make_worker(db_url: str, clock: Clock, reactors=(), **settings: object) -> RulesWorker:  # type: ignore[no-untyped-def]
    pool = make_pool(db_url, max_size=2, name="test-rules")
    _POOLS.append(pool)
    store = AlertStore(
        AlertSettings(), ROOT, reactors=reactors, clock=lambda: datetime.fromtimestamp(clock(), UTC)
    )
    return RulesWorker(ElevatorSettings(**settings), store, pool, ROOT, now=clock)  # type: ignore[arg-type]


def replay(worker: RulesWorker, clock: Clock, trace: Trace, step_s: float = 0.25) -> None:
    """Deliver the trace's messages at their times, ticking in between like the ticker."""
    for i, m in enumerate(trace.messages):
        t = m.ts_ms(trace.t0) / 1000
        while clock.t + step_s <= t:
            clock.t += step_s
            worker.tick_due()
        clock.t = max(clock.t, t)
        if m.channel != "tick":
            worker.handle([inbound(trace, i)])
        worker.tick_due()


def alerts(db_url: str) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT code, severity, state, count, started_at, resolved_at, site_id FROM alert ORDER BY id"
        ).fetchall()


def ms(trace: Trace, t: float) -> datetime:
    return datetime.fromtimestamp((trace.t0 + round(t * 1000)) / 1000, UTC)


def test_flap_is_one_alert_with_a_count(db_url: str) -> None:
    trace = load(SCENARIOS / "hw_flapping_trapped.jsonl")
    clock = Clock(trace.t0 / 1000 - 1)
    worker = make_worker(db_url, clock)
    replay(worker, clock, trace)
    rows = {r[0]: r for r in alerts(db_url)}
    trapped = rows["TRAPPED_OUT_ZONE"]
    # raised at 40 s, cleared (person gone) at 60 s, raised again at 66 s: one alert, count 2
    assert trapped[1:4] == ("P1", "firing", 2)
    assert trapped[4] == ms(trace, 10)
    with psycopg.connect(db_url) as conn:
        actions = [
            a
            for (a,) in conn.execute(
                "SELECT action FROM alert_event e JOIN alert a ON a.id = e.alert_id"
                " WHERE a.code = 'TRAPPED_OUT_ZONE' ORDER BY e.id"
            )
        ]
        topics = [t for (t,) in conn.execute("SELECT topic FROM outbox ORDER BY id")]
    assert actions == ["fired", "resolved", "reopened"]
    assert set(topics) == {f"{ROOT}/alerts/elevator/{trace.elevator}"}


def test_timer_fires_by_the_clock_with_the_evidence(db_url: str) -> None:
    trace = load(SCENARIOS / "hw_trapped_timer_fires_between_samples.jsonl")
    clock = Clock(trace.t0 / 1000 - 1)
    worker = make_worker(db_url, clock)
    stall = 10
    for i, m in enumerate(trace.messages):
        if m.t > stall:
            break
        clock.t = m.ts_ms(trace.t0) / 1000 + 0.04
        worker.handle([inbound(trace, i)])
    clock.t = trace.t0 / 1000 + stall + 29.9
    worker.tick_due()
    assert alerts(db_url) == []
    clock.t = trace.t0 / 1000 + stall + 30.1
    assert worker.tick_due() == 1
    ((code, severity, state, count, started, _, _),) = alerts(db_url)
    assert (code, severity, state, count, started) == (
        "TRAPPED_OUT_ZONE",
        "P1",
        "firing",
        1,
        ms(trace, stall),
    )
    with psycopg.connect(db_url) as conn:
        (details,) = conn.execute("SELECT details FROM alert").fetchone()
    assert details["samples"][-1]["run_state"] == "stopped"
    assert details["samples"][-1]["door_zone"] is False


def test_redelivery_after_a_restart_raises_nothing_twice(db_url: str) -> None:
    trace = load(SCENARIOS / "hw_trapped_timer_fires_between_samples.jsonl")
    clock = Clock(trace.t0 / 1000 - 1)
    first = make_worker(db_url, clock)
    replay(first, clock, trace)
    before = alerts(db_url)
    assert [r[0] for r in before] == ["TRAPPED_OUT_ZONE", "MODE_CHANGE"]
    # a new worker (empty memory) gets the whole stream again, as a broker redelivers
    second = make_worker(db_url, clock)
    second.load_dues()
    second.handle([inbound(trace, i) for i, m in enumerate(trace.messages) if m.channel != "tick"])
    clock.t += 60  # (the terminal is silent after the trace: OFFLINE would come at 180 s)
    second.tick_due()
    assert alerts(db_url) == before


def test_a_failed_batch_leaves_nothing_behind_and_is_redone(db_url: str) -> None:
    trace = load(SCENARIOS / "hw_flapping_trapped.jsonl")
    failures = [1]

    def flaky(conn, change, now):  # type: ignore[no-untyped-def]
        if failures:
            failures.pop()
            raise RuntimeError("reactor down")

    clock = Clock(trace.t0 / 1000 - 1)
    worker = make_worker(db_url, clock, reactors=[flaky])
    batch = [inbound(trace, i) for i in range(3)]  # up to the stall at 10 s; the next at 50 s
    worker.handle(batch[:2])
    later = inbound(trace, 2)
    clock.t = trace.t0 / 1000 + 50
    with pytest.raises(RuntimeError, match="reactor down"):
        worker.handle([later])
    assert alerts(db_url) == []
    worker.handle([later])  # the consumer's retry
    assert [r[:4] for r in alerts(db_url)] == [("TRAPPED_OUT_ZONE", "P1", "firing", 1)]


def test_registry_row_sets_site_and_thresholds(db_url: str) -> None:
    trace = load(SCENARIOS / "hw_trapped_timer_fires_between_samples.jsonl")
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO site (site_id, kind) VALUES ('S1', 'building')")
        conn.execute(
            "INSERT INTO elevator (elevator_id, site_id, floor_min, floor_max, rated_speed, thresholds)"
            " VALUES (%s, 'S1', -1, 18, 1.75, '{\"trapped_out_zone_s\": 12}')",
            (trace.elevator,),
        )
    clock = Clock(trace.t0 / 1000 - 1)
    worker = make_worker(db_url, clock)
    replay(worker, clock, trace)
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT site_id, started_at, details->>'confirmed_at_ms' FROM alert WHERE code = 'TRAPPED_OUT_ZONE'"
        ).fetchone()
    assert row is not None
    assert row[0] == "S1" and row[1] == ms(trace, 10)
    assert int(row[2]) == trace.t0 + 22_000  # 12 s, not 30 s


def test_quarantine_ignores_unregistered_elevators(db_url: str) -> None:
    trace = load(SCENARIOS / "hw_trapped_timer_fires_between_samples.jsonl")
    clock = Clock(trace.t0 / 1000 - 1)
    pool = make_pool(db_url, max_size=2, name="test-rules")
    store = AlertStore(AlertSettings(), ROOT)
    worker = RulesWorker(
        ElevatorSettings(), store, pool, ROOT, unknown_devices="quarantine", now=clock
    )
    replay(worker, clock, trace)
    assert alerts(db_url) == []


def test_state_is_saved_when_it_matters(db_url: str) -> None:
    trace = load(SCENARIOS / "sim_trapped_out_zone.jsonl")
    clock = Clock(trace.t0 / 1000 - 1)
    worker = make_worker(db_url, clock)
    replay(worker, clock, trace)
    assert worker.stats.saved < worker.stats.messages / 2  # not a write per sample
    worker.flush()  # what the ticker does every state_save_interval_s
    with psycopg.connect(db_url) as conn:
        (raw,) = conn.execute("SELECT state FROM elevator_rule_state").fetchone()
    state = decode_state(bytes(raw))
    assert state.max_seq == max(
        m.payload["seq"] for m in trace.messages if isinstance(m.payload, dict)
    )
    assert state.features is not None and state.due is not None
