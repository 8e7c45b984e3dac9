"""The notification pipeline on the real database with an injected clock: deduplication,
flapping, grouping, inhibition, silences, re-notification and escalation, and the
history of every step. Nothing sleeps: the clock is moved and the loops' steps called."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from brightwatch.alerts.routing import silences
from brightwatch.alerts.routing.matchers import Matcher
from tests.alerts.notify_support import Harness


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO firm (firm_id, webhook_url, contact) VALUES ('F1', 'http://127.0.0.1:9/f1', '{}')"
        )
        conn.execute(
            "INSERT INTO site (site_id, kind, district, extra) VALUES ('B1', 'building', 'Futian', '{}')"
        )
        conn.execute(
            "INSERT INTO site (site_id, kind, district, extra) VALUES"
            " ('K1', 'kitchen', 'Futian', '{\"contact\": {\"phone\": \"+8613800000000\"}}')"
        )
        for e in ("E1", "E2"):
            conn.execute(
                "INSERT INTO elevator (elevator_id, firm_id, site_id) VALUES (%s, 'F1', 'B1')", (e,)
            )
        yield Harness(conn)


def only(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]


def test_dedup_and_flapping_make_one_alert_and_one_notification(h: Harness) -> None:
    first = h.signal("DOOR_CLOSE_FAIL", "E1")
    assert first is not None
    alert_id = first.alert.id
    h.advance(seconds=5)
    h.signal("DOOR_CLOSE_FAIL", "E1")  # the same condition again: deduplicated
    h.advance(seconds=5)
    h.signal("DOOR_CLOSE_FAIL", "E1", active=False)
    h.advance(seconds=5)
    again = h.signal("DOOR_CLOSE_FAIL", "E1")  # raise/clear/raise within a minute: a flap
    assert again is not None and again.alert.id == alert_id and again.alert.count == 3
    assert h.notifications() == []  # still inside the 30 s group wait
    h.advance(seconds=20)
    n = only(h.notifications())
    assert n["alert_ids"] == [alert_id] and n["reason"] == "group" and n["status"] == "firing"
    # the firm route (continue = true) and nothing else matched: one notification to the firm
    assert n["receiver"] == "firm"
    (channel, target, payload) = only(h.deliveries(n["id"]))
    assert (channel, target) == ("webhook", "http://127.0.0.1:9/f1")  # {firm_webhook_url}
    assert payload["alerts"][0]["annotations"]["count"] == "3"
    h.advance(minutes=30)
    assert len(h.notifications()) == 1
    assert h.history(alert_id) == ["fired", "refired", "resolved", "reopened", "notified"]
    assert h.conn.execute("SELECT count(*) FROM alert").fetchone() == (1,)


def test_a_burst_at_one_kitchen_is_one_notification_then_changes_wait_for_the_group_interval(
    h: Harness,
) -> None:
    ids = []
    for code, cam in (("NO_MASK", "cam1"), ("NO_HAT", "cam1"), ("PHONE", "cam2")):
        change = h.kitchen(code, cam, "K1")
        assert change is not None
        ids.append(change.alert.id)
        h.advance(seconds=5)
    h.advance(seconds=20)
    n = only(h.notifications())
    assert sorted(n["alert_ids"]) == sorted(ids) and n["receiver"] == "ops"
    payload = only(h.deliveries(n["id"]))[2]
    # Alertmanager's webhook format, version 4
    assert payload["version"] == "4" and payload["status"] == "firing"
    assert payload["groupLabels"] == {"kind": "kitchen", "location": "K1"}
    assert (
        payload["commonLabels"]["site_id"] == "K1"
        and payload["commonLabels"]["district"] == "Futian"
    )
    assert payload["externalURL"] == "https://console.example"
    assert {a["labels"]["code"] for a in payload["alerts"]} == {"NO_MASK", "NO_HAT", "PHONE"}
    assert all(a["endsAt"] == "0001-01-01T00:00:00Z" for a in payload["alerts"])

    # a fourth alert a minute later waits for the 5 min group interval
    h.advance(minutes=1)
    fourth = h.kitchen("SMOKING", "cam2", "K1", severity="T2")
    assert fourth is not None
    h.kitchen("NO_MASK", "cam1", "K1", active=False)  # and one clears
    h.advance(minutes=2)
    assert len(h.notifications()) == 1
    h.advance(minutes=3)
    second = h.notifications()[1]
    payload = only(h.deliveries(second["id"]))[2]
    statuses = {a["labels"]["code"]: a["status"] for a in payload["alerts"]}
    assert statuses == {
        "NO_MASK": "resolved",
        "NO_HAT": "firing",
        "PHONE": "firing",
        "SMOKING": "firing",
    }
    resolved = next(a for a in payload["alerts"] if a["status"] == "resolved")
    assert resolved["endsAt"] != "0001-01-01T00:00:00Z"


def test_power_failure_inhibits_door_faults_of_the_same_elevator(h: Harness) -> None:
    power = h.signal("POWER_FAIL", "E1")
    door = h.signal("DOOR_OPEN_FAIL", "E1")
    other = h.signal("DOOR_OPEN_FAIL", "E2")
    assert power and door and other
    h.advance(seconds=40)
    notified = {i for n in h.notifications() for i in n["alert_ids"]}
    assert door.alert.id not in notified
    assert {power.alert.id, other.alert.id} <= notified
    assert "inhibited" in h.history(door.alert.id)
    details = h.conn.execute(
        "SELECT details FROM alert_event WHERE alert_id = %s AND action = 'inhibited'",
        (door.alert.id,),
    ).fetchone()[0]
    assert details == {"sources": [power.alert.id]}
    # the outage ends while the door fault persists: now it is news
    h.signal("POWER_FAIL", "E1", active=False)
    h.advance(minutes=6)
    assert door.alert.id in {i for n in h.notifications() for i in n["alert_ids"]}
    assert h.history(door.alert.id)[-2:] == ["uninhibited", "notified"]


def test_camera_offline_inhibits_that_cameras_violations(h: Harness) -> None:
    offline = h.kitchen("CAMERA_OFFLINE", "cam1", "K1", severity="T2")
    same_cam = h.kitchen("NO_MASK", "cam1", "K1")
    other_cam = h.kitchen("NO_MASK", "cam2", "K1")
    assert offline and same_cam and other_cam
    h.advance(seconds=40)
    notified = {i for n in h.notifications() for i in n["alert_ids"]}
    assert same_cam.alert.id not in notified and other_cam.alert.id in notified
    assert offline.alert.id in notified


def test_silence_mutes_until_expired_through_the_api_adapter(h: Harness) -> None:
    sid = silences.create(
        h.conn,
        h.pipeline,
        silences.SilenceRequest(
            [Matcher.parse("site_id=K1"), Matcher.parse("code=~NO_.*")],
            h.clock.now,
            h.clock.now + timedelta(hours=2),
            "cleaning crew without masks",
        ),
        "supervisor:1",
        h.clock.now,
    )
    silenced = h.kitchen("NO_MASK", "cam1", "K1")
    loud = h.kitchen("PHONE", "cam1", "K1")
    assert silenced and loud
    h.advance(minutes=1)
    n = only(h.notifications())
    assert n["alert_ids"] == [loud.alert.id]
    assert h.history(silenced.alert.id) == ["fired", "silenced"]
    h.advance(minutes=10)
    with h.conn.transaction():
        row = silences.expire(h.conn, h.pipeline, sid, "supervisor:2", h.clock.now)
    assert row is not None and row["state"] == "expired" and row["expired_by"] == "supervisor:2"
    h.advance(minutes=6)
    assert silenced.alert.id in h.notifications()[-1]["alert_ids"]
    assert h.history(silenced.alert.id) == ["fired", "silenced", "unsilenced", "notified"]
    audit = h.conn.execute(
        "SELECT actor, action FROM audit_log WHERE object_type = 'silence' ORDER BY id"
    ).fetchall()
    assert audit == [("supervisor:1", "create"), ("supervisor:2", "expire")]


def test_silence_runs_out_by_the_clock_and_pending_silence_comes_into_force(h: Harness) -> None:
    start = h.clock.now + timedelta(minutes=10)
    silences.create(
        h.conn,
        h.pipeline,
        silences.SilenceRequest(
            [Matcher.parse("device_id=E2")], start, start + timedelta(minutes=30), "lift works"
        ),
        "supervisor:1",
        h.clock.now,
    )
    door = h.signal("DOOR_CYCLING", "E2", severity="P3")
    assert door is not None
    h.advance(minutes=1)
    assert door.alert.id in only(h.notifications())["alert_ids"]  # the silence is not in force yet
    h.advance(minutes=10)
    assert h.history(door.alert.id)[-1] == "silenced"
    h.advance(minutes=31)
    assert h.history(door.alert.id)[-1] == "unsilenced"
    assert h.conn.execute(
        "SELECT actor, action FROM audit_log WHERE object_type = 'silence' AND action = 'expired'"
    ).fetchone() == ("clock", "expired")


def test_unacknowledged_alert_is_renotified_until_acknowledged(h: Harness) -> None:
    fault = h.signal("SAFETY_CIRCUIT", "E1")
    assert fault is not None
    h.advance(minutes=1)
    assert len(h.notifications()) == 1
    h.advance(hours=4)
    assert [n["reason"] for n in h.notifications()] == ["group", "repeat"]
    with h.conn.transaction():
        h.store.acknowledge(h.conn, fault.alert.id, "supervisor:7", "looking at it")
    h.advance(hours=9)
    assert [n["reason"] for n in h.notifications()] == ["group", "repeat"]
    assert h.history(fault.alert.id) == ["fired", "notified", "notified", "acknowledged"]


def test_p1_unacknowledged_escalates_along_the_chain(h: Harness) -> None:
    trapped = h.signal("TRAPPED_OUT_ZONE", "E1", severity="P1")
    acked = h.signal("TRAPPED_IN_ZONE", "E2", severity="P1")
    assert trapped and acked
    h.advance(seconds=10)
    with h.conn.transaction():
        h.store.acknowledge(h.conn, acked.alert.id, "firm:3:F1", "on our way")
    h.advance(minutes=4, seconds=40)
    assert [n["reason"] for n in h.notifications()].count("escalation") == 0
    h.advance(seconds=20)  # 5 min unacknowledged
    esc = [n for n in h.notifications() if n["reason"] == "escalation"]
    assert [(n["receiver"], n["alert_ids"]) for n in esc] == [("bureau-duty", [trapped.alert.id])]
    (channel, target, payload) = only(h.deliveries(esc[0]["id"]))
    assert (channel, target) == ("email", "duty@bureau.example")
    # in the deployment's language (zh-CN), the code verbatim beside its Chinese name
    assert payload["subject"].startswith("【升级】")
    assert "TRAPPED_OUT_ZONE 非平层困人" in payload["subject"]
    h.restart()  # the chain's state is in the database
    h.advance(minutes=25)
    esc = [n for n in h.notifications() if n["reason"] == "escalation"]
    assert [n["receiver"] for n in esc] == ["bureau-duty", "bureau-chief"]
    # the chief's integration reads English (`locale = "en"`)
    (_, _, chief) = only(h.deliveries(esc[1]["id"]))
    assert chief["subject"].startswith("[ESCALATION]") and "非平层困人" not in chief["subject"]
    assert "since 2026-11-22 16:00 (+08:00)" in chief["text"]
    assert h.history(trapped.alert.id).count("escalated") == 2
    assert "escalated" not in h.history(acked.alert.id)


def test_notices_fill_targets_from_the_registry_and_skip_what_is_missing(h: Harness) -> None:
    change = h.kitchen("SMOKING", "cam1", "K1", severity="T2")
    assert change is not None
    with h.conn.transaction():
        ids = h.pipeline.route_and_send(
            h.conn,
            change.alert,
            {"notice": "rectification"},
            h.clock.now,
            reason="notice",
            title="整改通知 SMOKING",
            message="Fix within 3 days",
            annotations={"review_id": "1"},
            action="notice_sent",
        )
    n = only(ids)
    targets = {(c, t) for c, t, _ in h.deliveries(n)}
    assert targets == {("sms", "+8613800000000"), ("mqtt", "bw/notices/K1")}
    sms_payload = next(p for c, _, p in h.deliveries(n) if c == "sms")
    assert sms_payload["text"] == "整改通知 SMOKING Fix within 3 days"
    # for vendors that send only approved templates (Aliyun, Tencent): kind and parameters
    assert sms_payload["template"] == "rectification"
    assert sms_payload["params"]["code"] == "SMOKING" and sms_payload["params"]["name"] == "吸烟"
    # a kitchen without a phone: the SMS is skipped and the history says so
    h.conn.execute("INSERT INTO site (site_id, kind) VALUES ('K2', 'kitchen')")
    other = h.kitchen("SMOKING", "cam9", "K2", severity="T2")
    assert other is not None
    with h.conn.transaction():
        (n2,) = h.pipeline.route_and_send(
            h.conn,
            other.alert,
            {"notice": "rectification"},
            h.clock.now,
            reason="notice",
            title="t",
            message="m",
            annotations={},
            action="notice_sent",
        )
    assert {c for c, _, _ in h.deliveries(n2)} == {"mqtt"}
    details = h.conn.execute(
        "SELECT details FROM alert_event WHERE alert_id = %s AND action = 'notice_sent'",
        (other.alert.id,),
    ).fetchone()[0]
    assert details["skipped"][0]["channel"] == "sms"
