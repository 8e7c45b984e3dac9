"""The scheduler on an injected clock against a real PostgreSQL: the daily pass, the
fault trigger (through the alert store's reactor), tickets at due date minus 3 days
opened once through the ticket desk, the statutory calendar, the withdrawal notice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from brightwatch.alerts.model import AlertSignal
from brightwatch.alerts.routing.pipeline import NotificationPipeline
from brightwatch.elevators.maintenance.doors import door_cycle_time_indicator
from brightwatch.elevators.maintenance.notice import WithdrawalNotice
from brightwatch.elevators.maintenance.scheduler import MaintenanceScheduler
from brightwatch.elevators.maintenance.settings import MaintenanceSettings
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store, build_ticket_desk
from tests.elevators.maintenance.fleet import (
    NOW,
    Clock,
    add_run_counters,
    add_simulated_status,
    register,
)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db_url, autocommit=True) as c:
        register(c)
        add_run_counters(c, {"EA1": 150, "EA2": 400, "EC1": 80})
        yield c


def scheduler(settings: Settings, clock: Clock) -> MaintenanceScheduler:
    alerts = build_alert_store(settings, clock)
    pipeline = NotificationPipeline(settings.alerts, settings.topic_root, clock)
    desk = build_ticket_desk(settings, alerts, clock)
    return MaintenanceScheduler(
        MaintenanceSettings(),
        clock,
        open_ticket=desk.open_maintenance,
        on_withdrawn=WithdrawalNotice(pipeline, alerts),
    )


def fire(settings: Settings, clock: Clock, device: str, code: str, severity: str) -> int:
    alerts = build_alert_store(settings, clock)
    with psycopg.connect(settings.database_url.get_secret_value()) as c, c.transaction():
        change = alerts.apply_signal(
            c,
            AlertSignal(
                kind="elevator",
                code=code,
                severity=severity,
                device_id=device,
                active=True,
                at=clock(),
                site_id="B1",
                summary=f"{code} on {device}",
            ),
        )
    assert change is not None and change.alert.id is not None
    return change.alert.id


def plans(conn: psycopg.Connection[Any], elevator_id: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT reason, computed_at, interval_days, next_due_at, eligible FROM maintenance_plan"
        " WHERE elevator_id = %s ORDER BY id",
        (elevator_id,),
    ).fetchall()


def tickets(conn: psycopg.Connection[Any], elevator_id: str, type_: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT id, trigger, created_at, due_at, plan_id, state, items FROM ticket"
        " WHERE elevator_id = %s AND type = %s ORDER BY id",
        (elevator_id, type_),
    ).fetchall()


def test_daily_pass_runs_once_a_day_after_its_hour(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    clock = Clock(NOW)  # 01:00, before the 02:00 pass: only never-planned elevators
    s = scheduler(settings, clock)
    first = s.run_once(conn)
    assert sorted((e, r) for e, r, _ in first.computed) == [
        ("EA1", "daily"),
        ("EA2", "daily"),
        ("EC1", "daily"),
    ]
    clock.at = NOW.replace(hour=2, minute=30)
    assert s.run_once(conn).computed == []  # one daily plan per day
    clock.at += timedelta(days=1, hours=-2)  # 00:30 the next day: not yet
    assert s.run_once(conn).computed == []
    clock.at += timedelta(hours=2)
    assert len(s.run_once(conn).computed) == 3
    assert [p[0] for p in plans(conn, "EA1")] == ["daily", "daily"]
    # EC1's firm is rated C: statutory round; EA1 (A, 10 years old) is eligible
    assert plans(conn, "EC1")[-1][2] == 15 and plans(conn, "EC1")[-1][4] is False
    assert plans(conn, "EA1")[-1][4] is True


def test_a_p1_or_p2_fault_recomputes_the_plan(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    clock = Clock(NOW.replace(hour=3))
    s = scheduler(settings, clock)
    s.run_once(conn)
    clock.at += timedelta(hours=1)
    fire(settings, clock, "EA1", "FLOOR_LOST", "P3")  # degradation: no recomputation
    assert s.run_once(conn).computed == []
    fire(settings, clock, "EA1", "UCM", "P1")
    r = s.run_once(conn)
    assert [(e, reason) for e, reason, _ in r.computed] == [("EA1", "UCM")]
    latest = plans(conn, "EA1")[-1]
    assert latest[0] == "UCM" and latest[2] == 15  # P1 override: 15 days for 90 days
    assert s.run_once(conn).computed == []  # the trigger was taken once


def test_on_demand_ticket_opens_at_due_minus_3_days_once_and_completion_moves_the_date(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    clock = Clock(NOW.replace(hour=2, minute=30))
    s = scheduler(settings, clock)
    s.run_once(conn)
    interval, due = plans(conn, "EA1")[-1][2:4]
    assert due == datetime.combine(NOW.date() + timedelta(days=interval), datetime.min.time(), UTC)
    opened_on = None
    for _ in range(interval + 2):
        clock.at += timedelta(days=1)
        s.run_once(conn)
        found = tickets(conn, "EA1", "on_demand")
        if found and opened_on is None:
            opened_on = clock.at.date()
    found = tickets(conn, "EA1", "on_demand")
    assert len(found) == 1, found  # once, not every day after
    ticket_id, trigger, created_at, due_at, plan_id, state, items = found[0]
    assert trigger == "DUE_DATE" and due_at == due and state == "dispatched"
    assert opened_on == (due - timedelta(days=3)).date() and created_at.date() == opened_on
    assert plan_id is not None and [i["code"] for i in items] == ["routine"]

    # the firm completes the visit: the next due date counts from the completion
    done_at = clock.at
    conn.execute(
        "UPDATE ticket SET state = 'completed', completed_at = %s WHERE id = %s",
        (done_at, ticket_id),
    )
    clock.at += timedelta(days=1)
    s.run_once(conn)
    latest = plans(conn, "EA1")[-1]
    assert latest[3].date() == done_at.date() + timedelta(days=latest[2])
    assert len(tickets(conn, "EA1", "on_demand")) == 1


def test_statutory_calendar_keeps_quarterly_items(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    clock = Clock(NOW.replace(hour=2, minute=30))
    done = clock.at - timedelta(days=88)
    conn.execute(
        "INSERT INTO ticket (type, state, elevator_id, firm_id, trigger, due_at, created_at,"
        " updated_at, completed_at) VALUES ('quarterly', 'verified', 'EA2', 'FA', 'DUE_DATE', %s, %s, %s, %s)",
        (done, done, done, done),
    )
    s = scheduler(settings, clock)
    r = s.run_once(conn)
    assert ("EA2", "quarterly", "DUE_DATE") in [(e, t, g) for e, t, g, _ in r.tickets]
    calendar = conn.execute(
        "SELECT calendar FROM maintenance_plan WHERE elevator_id = 'EA2' ORDER BY id DESC LIMIT 1"
    ).fetchone()[0]  # type: ignore[index]
    assert calendar["quarterly"]["due_at"].startswith(
        (done.date() + timedelta(days=90)).isoformat()
    )
    assert calendar["quarterly"]["last_done_at"] is not None
    assert calendar["half_yearly"]["due_at"].startswith(
        (clock.at.date() + timedelta(days=180)).isoformat()
    )
    assert calendar["yearly"]["due_at"].startswith(
        (clock.at.date() + timedelta(days=365)).isoformat()
    )
    new = tickets(conn, "EA2", "quarterly")
    assert len(new) == 2 and new[-1][3].date() == done.date() + timedelta(days=90)
    # EA1 has no quarterly round due for 90 days
    assert tickets(conn, "EA1", "quarterly") == []


def test_two_trapped_faults_in_30_days_withdraw_on_demand_and_tell_the_bureau(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    clock = Clock(NOW.replace(hour=3))
    s = scheduler(settings, clock)
    s.run_once(conn)
    clock.at -= timedelta(days=10)
    fire(settings, clock, "EA2", "TRAPPED_IN_ZONE", "P1")
    clock.at += timedelta(days=10)
    last = fire(settings, clock, "EA2", "TRAPPED_OUT_ZONE", "P1")
    s.run_once(conn)
    row = conn.execute(
        "SELECT eligible, interval_days, inputs->'outcome'->'on_demand' FROM maintenance_plan"
        " WHERE elevator_id = 'EA2' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row is not None and row[0] is False and row[1] == 15 and row[2]["withdrawn"] is True
    notices = conn.execute(
        "SELECT count(*) FROM alert_event WHERE alert_id = %s AND action = 'notice_on_demand_withdrawn'",
        (last,),
    ).fetchone()
    assert notices == (1,)
    # told once: the next computation finds it already withdrawn
    clock.at += timedelta(days=1)
    s.run_once(conn)
    assert conn.execute(
        "SELECT count(*) FROM alert_event WHERE action = 'notice_on_demand_withdrawn'"
    ).fetchone() == (1,)


def test_doors_re_opening_more_than_usual_raise_the_health_trend(
    db_url: str, settings: Settings
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        register(conn)
        add_run_counters(
            conn, {"EA1": 150, "EA2": 150}, reopens_from={"EA2": NOW.date() - timedelta(days=5)}
        )
        scheduler(settings, Clock(NOW)).run_once(conn)
        health = {
            e: conn.execute(
                "SELECT f FROM maintenance_plan, jsonb_array_elements(factors) f"
                " WHERE elevator_id = %s AND f->>'name' = 'health trend'",
                (e,),
            ).fetchone()[0]  # type: ignore[index]
            for e in ("EA1", "EA2")
        }
    assert health["EA1"]["value"] == 0.0 and health["EA1"]["missing"] is False
    assert health["EA2"]["value"] == 1.0
    worst = health["EA2"]["inputs"]["indicators"][0]
    assert worst["indicator"] == "door cycles per run" and worst["baseline_mean"] == 2.0


def test_a_terminal_offline_for_24_hours_gets_a_visit_within_a_poll(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    clock = Clock(NOW)  # 01:00: first plans; the next daily pass is tomorrow 02:00
    s = scheduler(settings, clock)
    s.run_once(conn)
    fire(settings, clock, "EA1", "OFFLINE", "P3")
    clock.at += timedelta(hours=23)
    assert s.run_once(conn).computed == []
    clock.at += timedelta(hours=1, minutes=1)
    r = s.run_once(conn)
    assert [(e, reason) for e, reason, _ in r.computed] == [("EA1", "OFFLINE_24H")]
    assert [(e, t, g) for e, t, g, _ in r.tickets] == [("EA1", "on_demand", "OFFLINE_24H")]
    clock.at += timedelta(minutes=5)
    assert s.run_once(conn).computed == []  # once


def raw_reads(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, date, date]]:
    """Records every read of raw status samples: (elevator, first day, after the last)."""
    reads: list[tuple[str, date, date]] = []
    execute = conn.execute

    def recording(query: Any, params: Any = None, **kw: Any) -> Any:
        if "FROM elevator_status" in str(query) and isinstance(params, dict):
            reads.append((params["e"], params["since"].date(), params["until"].date()))
        return execute(query, params, **kw)

    monkeypatch.setattr(conn, "execute", recording)
    return reads


def test_daily_raw_sample_values_are_read_once_then_kept_from_the_previous_plan(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        register(conn)
        add_simulated_status(conn, "EA1", 1, days=20)  # EA2, EC1: no status samples at all
        clock = Clock(NOW)
        s = scheduler(settings, clock)
        reads = raw_reads(conn, monkeypatch)
        s.run_once(conn)
        # one read per elevator over the whole window, for both raw-sample indicators
        window_from = NOW.date() - timedelta(days=67)
        assert sorted(reads) == [(e, window_from, NOW.date()) for e in ("EA1", "EA2", "EC1")]

        def series(name: str, elevator_id: str = "EA1") -> list[list[Any]]:
            health = conn.execute(
                "SELECT inputs->'data'->'health' FROM maintenance_plan WHERE elevator_id = %s"
                " ORDER BY id DESC LIMIT 1",
                (elevator_id,),
            ).fetchone()[0]  # type: ignore[index]
            return next(h["days"] for h in health if h["name"] == name)

        first = series("vibration")
        first_doors = series("door-cycle time")
        assert len(first) == 20 and len(first_doors) == 20
        assert all(9 < v < 12 for _, v in first_doors)  # the simulator's ~10.5 s cycles
        # the read leaves out repeated samples: the same value as from every sample of the day
        day, stored = first_doors[-1]
        every = conn.execute(
            "SELECT extract(epoch FROM ts)::float8, service_mode, run_state, door_state"
            " FROM elevator_status WHERE elevator_id = 'EA1' AND (ts AT TIME ZONE 'UTC')::date = %s"
            " ORDER BY ts, seq",
            (date.fromisoformat(day),),
        ).fetchall()
        assert len(every) > 500
        assert door_cycle_time_indicator(every) == pytest.approx(stored, abs=1e-3)
        # the raw samples of the older days go (retention, say): the next pass keeps their values
        conn.execute(
            "DELETE FROM elevator_status WHERE elevator_id = 'EA1' AND ts < %s",
            (NOW - timedelta(days=3),),
        )
        reads.clear()
        clock.at += timedelta(days=1, hours=2)
        s.run_once(conn)
        # without the previous plan's values only the days since 11-17 would be left
        assert series("vibration") == first
        assert series("door-cycle time") == first_doors
        # the next day reads only the last two days, also for the elevators whose earlier
        # days had no values (no samples): the previous plan says they were read
        today = clock.at.date()
        assert sorted(reads) == [
            (e, today - timedelta(days=2), today) for e in ("EA1", "EA2", "EC1")
        ]
        assert series("door-cycle time", "EA2") == []


def test_slower_doors_raise_the_health_trend_and_ask_for_a_door_check(
    conn: psycopg.Connection[Any], settings: Settings
) -> None:
    for e, i in (("EA1", 1), ("EA2", 1)):  # the same simulated traffic for both cars
        slow = NOW.date() - timedelta(days=5) if e == "EA2" else None
        add_simulated_status(conn, e, i, days=30, slow_doors_from=slow)
    clock = Clock(NOW.replace(hour=2, minute=30))
    r = scheduler(settings, clock).run_once(conn)
    health = {
        e: conn.execute(
            "SELECT f FROM maintenance_plan, jsonb_array_elements(factors) f"
            " WHERE elevator_id = %s AND f->>'name' = 'health trend'",
            (e,),
        ).fetchone()[0]  # type: ignore[index]
        for e in ("EA1", "EA2")
    }
    z = {e: {i["indicator"]: i for i in h["inputs"]["indicators"]} for e, h in health.items()}
    assert health["EA1"]["value"] == 0.0 and z["EA1"]["door-cycle time"]["z"] == 0.0
    # two seconds more a cycle from five days ago: against a baseline of ~10.5 s
    doors = z["EA2"]["door-cycle time"]
    assert 9 < doors["baseline_mean"] < 12 and doors["baseline_sigma"] >= 0.5
    assert doors["z"] >= 3 and z["EA2"]["vibration"]["z"] == 0.0
    assert health["EA2"]["value"] == 1.0
    assert health["EA2"]["explain"].startswith("worst drift: door-cycle time")
    # the last day is beyond 3 sigma: a visit now, to check the doors
    assert ("EA2", "on_demand", "HEALTH_3SIGMA") in [(e, t, g) for e, t, g, _ in r.tickets]
    assert ("EA1", "on_demand", "HEALTH_3SIGMA") not in [(e, t, g) for e, t, g, _ in r.tickets]
    items = conn.execute(
        "SELECT items FROM ticket WHERE elevator_id = 'EA2' AND trigger = 'HEALTH_3SIGMA'"
    ).fetchone()[0]  # type: ignore[index]
    assert [i["code"] for i in items] == ["door_time_check"]
