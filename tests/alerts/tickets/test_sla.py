"""SLA clocks on an injected server clock: every step of every type breaches once with
its own TICKET_SLA_BREACH alert, an unaccepted rescue is escalated and reassigned (the
elevator's standby firm, then the district's), a step reached late clears its breach
alert, clocks survive a new desk (a restart), arrival proven by inspection mode,
automatic verification."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from brightwatch.alerts.store import AlertStore
from brightwatch.alerts.tickets.store import TicketDesk
from brightwatch.db.timeseries import ensure_partitions
from brightwatch.i18n import show
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store
from tests.alerts.tickets.conftest import Clock
from tests.alerts.tickets.test_store import fire


def ticket(db_url: str, ticket_id: int | None = None) -> dict[str, Any]:
    with psycopg.connect(db_url) as conn:
        cur = conn.execute(
            "SELECT id, type, state, firm_id, previous_firms, arrived_at, arrival_proof"
            " FROM ticket WHERE id = COALESCE(%s, (SELECT max(id) FROM ticket))",
            (ticket_id,),
        )
        row = cur.fetchone()
        assert row
        return dict(zip([d.name for d in cur.description or []], row, strict=True))


def breaches(db_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT a.code, a.severity, a.state, a.labels->>'sla_step', a.labels->>'firm_id'"
            " FROM alert a WHERE a.code = 'TICKET_SLA_BREACH' ORDER BY a.id"
        ).fetchall()


def tick(desk: TicketDesk, db_url: str) -> int:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return desk.clock_step(conn)


def test_rescue_not_accepted_is_escalated_and_reassigned_down_the_standby_chain(
    city: str,
    store: AlertStore,
    desk: TicketDesk,
    clock: Clock,
    settings: Settings,
    ticket_page: Callable[..., tuple[int, str]],
) -> None:
    fire(store, city)  # confirmed 30 s before now; dispatched to FA at once
    tid = ticket(city)["id"]
    clock.advance(seconds=299)
    assert tick(desk, city) == 0  # 5 min to accept: not yet
    clock.advance(seconds=1)
    assert tick(desk, city) == 1
    t = ticket(city, tid)
    assert (t["state"], t["firm_id"], t["previous_firms"]) == ("reassigned", "FB", ["FA"])
    assert breaches(city) == [("TICKET_SLA_BREACH", "P1", "firing", "accepted", "FA")]
    assert tick(desk, city) == 0  # once
    clock.advance(minutes=5)  # FB (the elevator's standby) does not accept either
    assert tick(desk, city) == 1
    t = ticket(city, tid)
    assert (t["state"], t["firm_id"], t["previous_firms"]) == ("reassigned", "FC", ["FA", "FB"])
    clock.advance(minutes=5)  # FC, the district's standby, neither: nobody is left
    assert tick(desk, city) == 1
    t = ticket(city, tid)
    assert (t["state"], t["firm_id"]) == ("escalated", "FC")
    with psycopg.connect(city) as conn:
        history = conn.execute(
            "SELECT action, firm_id FROM ticket_event WHERE ticket_id = %s ORDER BY id", (tid,)
        ).fetchall()
        topics = [
            r[0]
            for r in conn.execute(
                "SELECT topic FROM outbox WHERE topic LIKE '%%/tickets/%%' ORDER BY id"
            ).fetchall()
        ]
    assert history == [
        ("created", "FA"),
        ("dispatched", "FA"),
        ("sla_breached", "FA"),
        ("escalated", "FA"),
        ("reassigned", "FB"),
        ("sla_breached", "FB"),
        ("escalated", "FB"),
        ("reassigned", "FC"),
        ("sla_breached", "FC"),
        ("escalated", "FC"),
    ]
    root = settings.topic_root
    # the firm that lost the ticket hears of it, the next one gets it
    assert f"{root}/tickets/FA/{tid}" in topics and f"{root}/tickets/FC/{tid}" in topics
    # the original 30-min arrival clock (from the fault) breached meanwhile: bureau notified
    clock.advance(minutes=16)
    assert tick(desk, city) == 1
    assert breaches(city)[-1][3] == "arrived"
    with psycopg.connect(city, autocommit=True) as conn:
        # group_wait 0: flushed by the notification clock's next pass
        from brightwatch.alerts.routing.pipeline import NotificationPipeline

        NotificationPipeline(settings.alerts, settings.topic_root, clock).flush_due(conn)
        receivers = {
            r[0]
            for r in conn.execute(
                "SELECT n.receiver FROM notification n JOIN alert a ON a.id = ANY(n.alert_ids)"
                " WHERE a.code = 'TICKET_SLA_BREACH' AND a.labels->>'sla_step' = 'arrived'"
            ).fetchall()
        }
    assert "bureau-duty" in receivers  # the bureau hears of a late rescue at once
    with psycopg.connect(city) as conn:
        (said,) = conn.execute(
            "SELECT summaries FROM alert WHERE code = 'TICKET_SLA_BREACH'"
            " AND labels->>'sla_step' = 'arrived'"
        ).fetchone()
    # written in both languages, each reader's own (the SMS and e-mail of either language)
    assert set(said) == {"zh-CN", "en"} and said["zh-CN"] != said["en"]
    assert said["en"].startswith("rescue ticket ") and "nobody arrived by" in said["en"]
    assert "(+08:00)" in said["en"] and not re.search(r"[\u4e00-\u9fff]", said["en"])
    assert re.search(r"[\u4e00-\u9fff]", said["zh-CN"])
    # FC finally accepts and arrives: the breach alerts end
    with psycopg.connect(city) as conn:
        desk.transition(conn, tid, "accepted", actor="firm:1:FC", role="firm", firm_id="FC")
        desk.transition(conn, tid, "arrived", actor="firm:1:FC", role="firm", firm_id="FC")
    assert {b[2] for b in breaches(city)} == {"resolved"}
    # the console's page of the ticket: each reassignment and missed deadline in the reader's
    # words, the deadlines with their breach alerts; the firms that lost it no longer see it
    status, zh = ticket_page(tid, "zh-CN")
    assert status == 200 and "FA 未按时接单；改派 FB" in zh and "FB 未按时接单；改派 FC" in zh
    assert zh.count('data-action="sla_breached"') == 4 and "定时任务" in zh
    assert 'href="#/alerts/' in zh and "此前：FA, FB" in zh
    _, en = ticket_page(tid, "en")
    assert "not accepted in time by FA; reassigned to FB" in en and "deadline missed" in en
    assert ticket_page(tid, "en", "firm", firm_id="FC")[0] == 200
    assert ticket_page(tid, "en", "firm", firm_id="FA")[0] == 404


@pytest.mark.parametrize(
    ("kind", "step", "after", "severity"),
    [
        ("rescue", "arrived", timedelta(minutes=30), "P1"),  # from the fault's confirmation
        ("repair", "accepted", timedelta(minutes=30), "P2"),
        ("repair", "arrived", timedelta(hours=4), "P2"),
        ("unassigned", "dispatched", timedelta(minutes=1), "P1"),
        ("quarterly", "accepted", timedelta(hours=24), "P2"),
        ("quarterly", "arrived", timedelta(days=3), "P2"),  # by the due date
    ],
)
def test_every_step_breaches_on_time_once(
    city: str,
    store: AlertStore,
    desk: TicketDesk,
    clock: Clock,
    kind: str,
    step: str,
    after: timedelta,
    severity: str,
) -> None:
    start = clock()
    if kind == "rescue":
        fire(store, city)
        start -= timedelta(seconds=30)  # the alert's start
    elif kind == "repair":
        fire(store, city, code="SAFETY_CIRCUIT", severity="P2")
        start -= timedelta(seconds=30) if step == "arrived" else timedelta(0)
    elif kind == "unassigned":
        fire(store, city, device="UNKNOWN1")
    else:
        with psycopg.connect(city) as conn:
            desk.open_maintenance(
                conn,
                elevator_id="E1",
                type="quarterly",
                due_at=start + timedelta(days=3),
                trigger="DUE_DATE",
                plan_id=None,
                now=start,
            )
    tid = ticket(city)["id"]
    with psycopg.connect(city) as conn:
        due = conn.execute(
            "SELECT due_at FROM ticket_clock WHERE ticket_id = %s AND step = %s", (tid, step)
        ).fetchone()
    assert due and due[0] == start + after
    if kind == "quarterly" and step == "arrived":
        with psycopg.connect(city) as conn:  # accepted in time: only the arrival is left
            desk.transition(conn, tid, "accepted", actor="firm:1:FA", role="firm", firm_id="FA")
    clock.at = start + after - timedelta(seconds=1)
    tick(desk, city)
    assert [b for b in breaches(city) if b[3] == step] == []
    clock.at = start + after
    tick(desk, city)
    tick(desk, city)
    found = [b for b in breaches(city) if b[3] == step]
    assert [(b[1], b[2]) for b in found] == [(severity, "firing")]


def test_met_in_time_never_breaches(
    city: str, store: AlertStore, desk: TicketDesk, clock: Clock
) -> None:
    fire(store, city)
    tid = ticket(city)["id"]
    clock.advance(minutes=4)
    with psycopg.connect(city) as conn:
        desk.transition(conn, tid, "accepted", actor="firm:1:FA", role="firm", firm_id="FA")
        clock.advance(minutes=20)
        desk.transition(conn, tid, "arrived", actor="firm:1:FA", role="firm", firm_id="FA")
    clock.advance(hours=10)
    assert tick(desk, city) == 0 and breaches(city) == []


def test_clocks_survive_a_restart(
    city: str, settings: Settings, store: AlertStore, clock: Clock
) -> None:
    fire(store, city)
    tid = ticket(city)["id"]
    del store  # the worker goes away; a new process builds everything afresh
    clock.advance(minutes=6)
    fresh = build_alert_store(settings, clock)
    desk = next(r for r in fresh.reactors if isinstance(r, TicketDesk))
    assert tick(desk, city) == 1
    assert ticket(city, tid)["state"] == "reassigned"
    assert len(breaches(city)) == 1


def _status(conn: psycopg.Connection[Any], ts: Any, seq: int, mode: str) -> None:
    ensure_partitions(conn, [ts.date()])
    conn.execute(
        "INSERT INTO elevator_status (elevator_id, ts, seq, service_mode, run_state, floor,"
        " door_zone, door_state, has_person, speed, received_at)"
        " VALUES ('E1', %s, %s, %s, 'stopped', 1, true, 'closed', false, 0, %s)",
        (ts, seq, mode, ts),
    )


def test_maintenance_arrival_from_inspection_mode(
    city: str, desk: TicketDesk, clock: Clock, ticket_page: Callable[..., tuple[int, str]]
) -> None:
    with psycopg.connect(city) as conn:
        tid = desk.open_maintenance(
            conn,
            elevator_id="E1",
            type="on_demand",
            due_at=clock() + timedelta(days=3),
            trigger="DUE_DATE",
            plan_id=None,
            now=clock(),
        )
        assert tid
        desk.transition(conn, tid, "accepted", actor="firm:1:FA", role="firm", firm_id="FA")
        t0 = clock() + timedelta(hours=1)
        # 15 min of inspection, a break, then 19 min: not yet proof
        seq = 0
        for minute in range(0, 16):
            _status(conn, t0 + timedelta(minutes=minute), seq := seq + 1, "inspection")
        _status(conn, t0 + timedelta(minutes=16), seq := seq + 1, "normal")
        for minute in range(17, 37):
            _status(conn, t0 + timedelta(minutes=minute), seq := seq + 1, "inspection")
        conn.commit()
        clock.at = t0 + timedelta(hours=1)
        assert desk.arrival_step(conn) == 0
        _status(conn, t0 + timedelta(minutes=37), seq := seq + 1, "inspection")  # 20 min now
        conn.commit()
        assert desk.arrival_step(conn) == 1
        assert desk.arrival_step(conn) == 0
    t = ticket(city, tid)
    assert (t["state"], t["arrival_proof"]) == ("arrived", "telemetry")
    assert t["arrived_at"] == t0 + timedelta(minutes=17)  # the start of the stretch
    # the page says why, in the reader's language and zone, whatever the deployment's
    stretch = t0 + timedelta(minutes=17)
    zh = ticket_page(tid, "zh-CN")[1]
    assert f"轿厢自 {show(stretch, 'Asia/Shanghai')} 起处于检修模式" in zh
    en = ticket_page(tid, "en")[1]
    assert f"car in inspection mode from {show(stretch, 'Asia/Shanghai')}" in en
    assert "elevator telemetry" in en


def test_completed_repair_is_verified_after_a_quiet_day_and_ten_runs(
    city: str,
    store: AlertStore,
    desk: TicketDesk,
    clock: Clock,
    ticket_page: Callable[..., tuple[int, str]],
) -> None:
    fire(store, city, code="SAFETY_CIRCUIT", severity="P2")
    tid = ticket(city)["id"]
    with psycopg.connect(city) as conn:
        for to in ("accepted", "arrived"):
            desk.transition(conn, tid, to, actor="firm:1:FA", role="firm", firm_id="FA")
        desk.transition(
            conn,
            tid,
            "completed",
            actor="firm:1:FA",
            role="firm",
            firm_id="FA",
            result="fault_cleared",
        )
        done = clock()
        ensure_partitions(conn, [done.date(), (done + timedelta(days=1)).date()])
        for i, runs in enumerate((1000, 1005)):
            conn.execute(
                "INSERT INTO elevator_stats (elevator_id, ts, seq, run_count, received_at)"
                " VALUES ('E1', %s, %s, %s, %s)",
                (done + timedelta(hours=i + 1), i, runs, done),
            )
        conn.commit()
        clock.at = done + timedelta(hours=25)
        assert desk.verify_step(conn) == 0  # 5 runs only
        conn.execute(
            "INSERT INTO elevator_stats (elevator_id, ts, seq, run_count, received_at)"
            " VALUES ('E1', %s, 9, 1011, %s)",
            (done + timedelta(hours=20), done),
        )
        conn.commit()
        assert desk.verify_step(conn) == 1
    assert ticket(city, tid)["state"] == "verified"
    assert "完成后未再发生故障，且正常运行次数已足够" in ticket_page(tid, "zh-CN")[1]
    assert "no recurrence and enough normal runs since completion" in ticket_page(tid, "en")[1]


def test_maintenance_sign_off_within_three_days(city: str, desk: TicketDesk, clock: Clock) -> None:
    with psycopg.connect(city) as conn:
        tid = desk.open_maintenance(
            conn,
            elevator_id="E1",
            type="yearly",
            due_at=clock() + timedelta(days=3),
            trigger="DUE_DATE",
            plan_id=None,
            now=clock(),
        )
        assert tid
        for to in ("accepted", "arrived"):
            desk.transition(conn, tid, to, actor="firm:1:FA", role="firm", firm_id="FA")
        desk.transition(
            conn, tid, "completed", actor="firm:1:FA", role="firm", firm_id="FA", result="done"
        )
    clock.advance(days=3, seconds=-1)
    assert tick(desk, city) == 0
    clock.advance(seconds=1)
    assert tick(desk, city) == 1
    assert breaches(city) == [("TICKET_SLA_BREACH", "P2", "firing", "verified", "FA")]
    with psycopg.connect(city) as conn:  # signed late: the breach ends
        desk.transition(conn, tid, "verified", actor="supervisor:2", role="supervisor")
    assert breaches(city)[0][2] == "resolved"
