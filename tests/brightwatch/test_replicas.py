"""Replicas of the `alerts` component never do one piece of work twice (issue 16, item 1).

Three replicas (distinct BW_INSTANCE, as `brightwatch serve --components alerts` runs
them, upkeep included) on one real database and one real mosquitto; alerts with rescue
tickets raised while they run; every notification reaches a real local HTTP receiver
once, every ticket event the firm's webhook once, every outbox row the broker once.
Beside it the pieces that make it so: the outbox relay's lock (one relay at a time, in
order), the exclusive upkeep loop (fleet rollup), the maintenance scheduler's lock."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from brightwatch.alerts.model import AlertSignal
from brightwatch.alerts.outbox import OutboxRelay, enqueue
from brightwatch.alerts.routing.settings import NotifySettings
from brightwatch.alerts.settings import AlertSettings
from brightwatch.alerts.stats import queries
from brightwatch.components import ComponentSet, live_twin
from brightwatch.components.alerts import STATS_LOCK, camera_hours_step, exclusive_loop
from brightwatch.elevators.maintenance.scheduler import LOCK_KEY as SCHEDULER_LOCK
from brightwatch.elevators.maintenance.scheduler import MaintenanceScheduler
from brightwatch.elevators.maintenance.settings import MaintenanceSettings
from brightwatch.embedded import EmbeddedBroker
from brightwatch.mqttlink.publisher import PublishTimeout
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store, build_runtime
from tests.alerts.test_channels import HttpReceiver
from tests.support.mqtt import Collector
from tests.support.waiting import wait_until

DEVICES = [f"E{n}" for n in range(1, 7)]
REPLICAS = 3


def register(db_url: str, firm_hook: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO firm (firm_id, name, webhook_url) VALUES ('FA', 'A Lifts', %s)",
            (firm_hook,),
        )
        conn.execute(
            "INSERT INTO site (site_id, kind, name, operator, address, district)"
            " VALUES ('S1', 'building', 'Tower', 'Tower Co', '1 Main St', 'D1')"
        )
        for e in DEVICES:
            conn.execute(
                "INSERT INTO elevator (elevator_id, firm_id, site_id, district)"
                " VALUES (%s, 'FA', 'S1', 'D1')",
                (e,),
            )


def settled(db_url: str) -> bool:
    """Every delivery delivered and every outbox row published."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM delivery WHERE state <> 'delivered'),"
            " (SELECT count(*) FROM delivery),"
            " (SELECT count(*) FROM outbox WHERE published_at IS NULL)"
        ).fetchone()
    assert row is not None
    return row[0] == 0 and row[1] >= 3 * len(DEVICES) and row[2] == 0


def test_three_alerts_replicas_deliver_each_notification_exactly_once(
    settings: Settings, db_url: str, broker: EmbeddedBroker
) -> None:
    hook = HttpReceiver()
    register(db_url, hook.url + "/tickets")
    notify = NotifySettings(
        tick_s=0.2,
        route={
            "receiver": "ops",
            "group_by": ["device_id"],  # one notification per alert
            "group_wait_s": 0,
            "group_interval_s": 3600,
            "repeat_interval_s": 3600,
        },
        receivers={"ops": [{"channel": "webhook", "target": hook.url + "/am"}], "bureau-duty": []},
    )
    base = settings.model_copy(update={"alerts": AlertSettings(notify=notify)})
    replicas = [
        ComponentSet(build_runtime(base.model_copy(update={"instance": f"alerts-{n}"})), ["alerts"])
        for n in range(REPLICAS)
    ]
    root = settings.topic_root
    store = build_alert_store(base)
    try:
        with Collector(broker.port, [f"{root}/alerts/#", f"{root}/tickets/#"]) as mqtt:
            for r in replicas:
                r.start()
            for device in DEVICES:
                with psycopg.connect(db_url) as conn, conn.transaction():
                    change = store.apply_signal(
                        conn,
                        AlertSignal(
                            "elevator", "TRAPPED_OUT_ZONE", "P1", device, True, datetime.now(UTC)
                        ),
                    )
                    assert change is not None
            wait_until(lambda: settled(db_url), timeout=60, what="every delivery and message")
            time.sleep(2.0)  # a repeat, if any, would come now
            received = Counter((m.topic, m.payload) for m in mqtt.messages)
    finally:
        for r in replicas:
            r.shutdown(20)
        hook.close()
    assert not any(r.failed for r in replicas)

    with psycopg.connect(db_url) as conn:
        alerts = conn.execute("SELECT device_id, count(*) FROM alert GROUP BY 1").fetchall()
        tickets = conn.execute("SELECT elevator_id, count(*) FROM ticket GROUP BY 1").fetchall()
        outbox = Counter(
            (t, bytes(p)) for t, p in conn.execute("SELECT topic, payload FROM outbox").fetchall()
        )
        deliveries = conn.execute(
            "SELECT count(*) FILTER (WHERE target LIKE '%%/am'),"
            " count(*) FILTER (WHERE target LIKE '%%/tickets') FROM delivery"
        ).fetchone()
    # one alert and one ticket per fault
    assert sorted(alerts) == [(d, 1) for d in sorted(DEVICES)]
    assert sorted(tickets) == [(d, 1) for d in sorted(DEVICES)]

    # every notification reached the receiver once: one request per alert, no key twice
    am = [r for r in hook.requests if r["path"] == "/am"]
    per_device = Counter(
        a["labels"]["device_id"] for r in am for a in json.loads(r["body"])["alerts"]
    )
    assert per_device == Counter(dict.fromkeys(DEVICES, 1))
    assert deliveries is not None and len(am) == deliveries[0] == len(DEVICES)
    all_keys = [r["headers"]["Idempotency-Key"] for r in hook.requests]
    assert len(all_keys) == len(set(all_keys))

    # every ticket event reached the firm's webhook once
    firm = [json.loads(r["body"]) for r in hook.requests if r["path"] == "/tickets"]
    events = Counter((b["ticket"]["id"], b["event"]) for b in firm)
    assert len(firm) == deliveries[1] and set(events.values()) == {1}
    assert {e for _, e in events} >= {"created", "dispatched"}

    # every outbox row reached the broker once (alerts and tickets)
    assert sum(outbox.values()) >= 3 * len(DEVICES)
    assert received == outbox


@dataclass
class HeldPublisher:
    """A publisher whose broker acknowledges only when `release` is set."""

    release: threading.Event
    sent: list[str]
    connected: threading.Event

    def publish_confirmed(
        self, messages: list[tuple[str, bytes, int, bool]], timeout: float
    ) -> None:
        if not self.release.wait(timeout):
            raise PublishTimeout("held")
        self.sent += [m[0] for m in messages]


def test_two_outbox_relays_never_publish_out_of_order(db_url: str) -> None:
    """While one relay waits for the broker's acknowledgement of its batch, another must
    not publish the rows behind it (order kept), nor the batch itself (once)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        for n in range(4):
            enqueue(conn, f"t/alerts/elevator/E{n}", b"{}")
    held = HeldPublisher(threading.Event(), [], threading.Event())
    free = HeldPublisher(threading.Event(), [], threading.Event())
    free.release.set()
    first: Any = OutboxRelay(db_url, held, batch=2)  # type: ignore[arg-type]
    second: Any = OutboxRelay(db_url, free, batch=2)  # type: ignore[arg-type]
    done: list[int] = []
    with (
        psycopg.connect(db_url, autocommit=True) as c1,
        psycopg.connect(db_url, autocommit=True) as c2,
    ):
        t = threading.Thread(target=lambda: done.append(first.relay_once(c1)), daemon=True)
        t.start()
        wait_until(
            lambda: (
                c2.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                ).fetchone()
                == (1,)
            ),
            10,
            what="the first relay's batch in flight",
        )
        assert second.relay_once(c2) == 0  # stands by
        held.release.set()
        t.join(10)
        assert done == [2]
        while second.relay_once(c2):
            pass
    assert held.sent == ["t/alerts/elevator/E0", "t/alerts/elevator/E1"]
    assert free.sent == ["t/alerts/elevator/E2", "t/alerts/elevator/E3"]


@dataclass
class FakeSettings:
    instance: str


@dataclass
class FakeRuntime:
    database_url: str
    settings: FakeSettings


def test_upkeep_beside_alerts_runs_in_one_replica_at_a_time(db_url: str) -> None:
    running: list[str] = []
    overlap: list[list[str]] = []
    lock = threading.Lock()

    def upkeep(runtime: Any, stop: threading.Event) -> None:
        with lock:
            running.append(runtime.settings.instance)
            if len(running) > 1:
                overlap.append(list(running))
        stop.wait()
        with lock:
            running.remove(runtime.settings.instance)

    stops = [threading.Event(), threading.Event()]
    threads = [
        threading.Thread(
            target=exclusive_loop,
            args=(FakeRuntime(db_url, FakeSettings(f"alerts-{n}")), stops[n], "bw_test", upkeep),
            kwargs={"retry_s": 0.2},
            daemon=True,
        )
        for n in range(2)
    ]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(running) == 1, 10, what="one replica running the upkeep")
        time.sleep(1.0)  # the other keeps trying, and stays out
        assert len(running) == 1 and not overlap
        leader = int(running[0][-1])
        stops[leader].set()  # the running replica goes away: the other takes over
        threads[leader].join(10)
        wait_until(
            lambda: running == [f"alerts-{1 - leader}"], 10, what="the other replica takes over"
        )
    finally:
        for s in stops:
            s.set()
        for t in threads:
            t.join(10)
    assert not overlap


def test_the_maintenance_scheduler_stands_by_while_another_replica_runs(db_url: str) -> None:
    opened: list[str] = []

    def open_ticket(conn: Any, **kw: Any) -> int | None:
        opened.append(kw["elevator_id"])
        return None

    scheduler = MaintenanceScheduler(MaintenanceSettings(), lambda: datetime.now(UTC), open_ticket)
    with (
        psycopg.connect(db_url, autocommit=True) as other,
        psycopg.connect(db_url, autocommit=True) as conn,
    ):
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", (SCHEDULER_LOCK,))
        assert scheduler.run_once(conn).locked_out
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", (SCHEDULER_LOCK,))
        assert not scheduler.run_once(conn).locked_out
    assert opened == []


def test_a_second_process_with_the_same_instance_is_refused(
    settings: Settings, db_url: str
) -> None:
    """Another live process (another host and pid, heartbeat refreshed) runs alerts as
    this BW_INSTANCE: this one does not start; a row left by a dead one does not stop it."""
    fast = settings.health.model_copy(update={"heartbeat_interval_s": 0.2})
    mine = settings.model_copy(update={"instance": "alerts-0", "health": fast})
    beating = threading.Event()

    def twin() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            while not beating.wait(0.1):
                conn.execute(
                    "INSERT INTO component_heartbeat (component, replica, host, pid, state)"
                    " VALUES ('alerts.outbox', 'alerts-0', 'other-host', 4242, 'ok')"
                    " ON CONFLICT (component, replica) DO UPDATE SET updated_at = now()"
                )

    t = threading.Thread(target=twin, daemon=True)
    t.start()
    try:
        wait_until(lambda: live_twin_rows(db_url) == 1, 10, what="the twin's heartbeat")
        replica = ComponentSet(build_runtime(mine), ["alerts"])
        replica.start()
        assert replica.failed == ["instance"] and replica.wait(0)
        assert not replica.threads  # nothing started
        replica.shutdown(5)
    finally:
        beating.set()
        t.join(5)
    # the same row, gone still (its process died): no twin
    assert live_twin(build_runtime(mine), ["alerts"], threading.Event()) is None


def live_twin_rows(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM component_heartbeat").fetchone()
    return int(row[0]) if row else 0


def test_the_camera_hours_rollup_is_left_to_the_replica_at_it(
    settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[datetime] = []

    def rollup(conn: Any, now: datetime) -> int:
        calls.append(now)
        return 0

    monkeypatch.setattr(queries, "rollup_camera_hours", rollup)
    step = camera_hours_step(build_runtime(settings), threading.Event())
    with (
        psycopg.connect(db_url) as other,
        psycopg.connect(db_url, autocommit=True) as conn,
    ):
        other.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (STATS_LOCK,))
        assert step(conn) == 0 and calls == []  # another replica holds it
        other.rollback()
        assert step(conn) == 0 and len(calls) == 1
