"""The whole kitchen loop through the HTTP API, on an injected clock: detection ->
review queue -> confirm / dismiss -> notice -> plan -> overdue -> yellow card -> red
card -> evidence upload -> verification (rejected, then accepted) -> closed, with credit
points, evidence retention and the history. Supervisor and operator tokens; an operator
never sees or acts on another site (404)."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from brightwatch.api.web.views import WORDS
from brightwatch.i18n import translate
from tests.review.conftest import App
from tests.review.support import add_evidence, jpeg, raise_violation

ACTIONS = WORDS["alert_action"]
RAT_BOX = [{"label": "rat", "score": 0.91, "box": [40.0, 150.0, 120.0, 210.0], "track": 3}]


def register(app: App, admin: dict[str, str]) -> None:
    for site, district, phone in (
        ("K1", "Futian", "+8613800000001"),
        ("K2", "Nanshan", "+8613800000002"),
    ):
        r = app.client.put(
            f"/api/v1/sites/{site}",
            json={
                "kind": "kitchen",
                "name": f"Kitchen {site}",
                "district": district,
                "extra": {"contact": {"phone": phone}},
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        for cam in ("cam1", "cam2"):
            r = app.client.put(
                f"/api/v1/sites/{site}/cameras/{cam}", json={"work_area": "cooking"}, headers=admin
            )
            assert r.status_code == 201, r.text


def history(app: App, alert_id: int, who: dict[str, str]) -> list[str]:
    r = app.client.get(f"/api/v1/alerts/{alert_id}/history", headers=who)
    assert r.status_code == 200, r.text
    return [e["action"] for e in r.json()["items"]]


def alert_page(
    app: App, alert_id: int, who: dict[str, str], lang: str
) -> tuple[list[tuple[str, str]], str]:
    """The console's page of one alert: (action, the name the page gives it) per row of
    its history, and the whole fragment."""
    r = app.client.get(f"/console/views/alerts/{alert_id}?lang={lang}", headers=who)
    assert r.status_code == 200, r.text
    rows = re.findall(r'<tr data-action="([a-z_]+)">\s*<td>.*?</td>\s*<td>(.*?)</td>', r.text, re.S)
    return [(action, html.unescape(name)) for action, name in rows], html.unescape(r.text)


def credit(app: App, site: str, who: dict[str, str]) -> int:
    r = app.client.get(f"/api/v1/kitchens/{site}", headers=who)
    assert r.status_code == 200, r.text
    return int(r.json()["credit_points"])


def deliveries(app: App, review_id: int) -> set[tuple[str, str]]:
    rows = app.conn.execute(
        "SELECT d.channel, d.target FROM delivery d JOIN notification n ON n.id = d.notification_id"
        " WHERE n.reason = 'notice' AND n.details->>'review_id' = %s",
        (str(review_id),),
    ).fetchall()
    return set(rows)


def test_review_rectification_and_closure_end_to_end(app: App, make_token: Any) -> None:
    admin, sup = make_token("admin"), make_token("supervisor")
    op1, op2 = make_token("operator", site_id="K1"), make_token("operator", site_id="K2")
    register(app, admin)
    store, c, clock = app.runtime.alert_store, app.client, app.clock
    data_dir = app.runtime.settings.data_dir

    # the vision pipeline raises three violations with evidence, and a camera fault
    rodent = raise_violation(app.conn, store, "RODENT", "K1", "cam1", "T1", clock.now)
    assert rodent is not None
    rat_evidence = [
        add_evidence(
            app.conn, data_dir, rodent.alert.id, "K1", "cam1", "RODENT", clock.now, RAT_BOX, seed=i
        )
        for i in range(2)
    ]
    clock.advance(seconds=1)
    mask = raise_violation(app.conn, store, "NO_MASK", "K1", "cam2", "T3", clock.now)
    assert mask is not None
    mask_evidence = add_evidence(
        app.conn,
        data_dir,
        mask.alert.id,
        "K1",
        "cam2",
        "NO_MASK",
        clock.now,
        [{"label": "without_mask", "score": 0.7, "box": [10.0, 10.0, 60.0, 70.0]}],
        seed=9,
    )
    clock.advance(seconds=1)
    smoking = raise_violation(
        app.conn, store, "SMOKING", "K2", "cam1", "T2", clock.now, district="Nanshan"
    )
    assert smoking is not None
    raise_violation(
        app.conn, store, "CAMERA_OFFLINE", "K2", "cam2", "T2", clock.now, district="Nanshan"
    )
    clock.advance(seconds=5)
    # the rodent is seen again: the same alert (count 2), no second review
    again = raise_violation(app.conn, store, "RODENT", "K1", "cam1", "T1", clock.now)
    assert again is not None and again.alert.id == rodent.alert.id and again.alert.count == 2

    # --- the queue: oldest first, evidence with boxes, the next item to preload
    r = c.get("/api/v1/reviews?state=pending&limit=1", headers=sup)
    assert r.status_code == 200, r.text
    queue = r.json()
    (head,) = queue["items"]
    assert (head["code"], head["tier"], head["site_id"], head["camera_id"]) == (
        "RODENT",
        "T1",
        "K1",
        "cam1",
    )
    assert [e["id"] for e in head["evidence"]] == rat_evidence
    assert head["evidence"][0]["url"] == f"/api/v1/evidence/{rat_evidence[0]}.jpg"
    assert head["evidence"][0]["boxes"][0]["label"] == "rat" and head["rule"].startswith("RODENT")
    assert head["name_zh"] == "鼠患" and head["count"] == 2
    assert (
        queue["next"]["code"] == "NO_MASK" and queue["next"]["evidence"][0]["id"] == mask_evidence
    )
    everything = c.get("/api/v1/reviews?state=pending", headers=sup).json()["items"]
    assert [i["code"] for i in everything] == ["RODENT", "NO_MASK", "SMOKING"]  # no CAMERA_OFFLINE
    rodent_id, mask_id, smoking_id = (i["id"] for i in everything)

    # operators do not review, and do not see unreviewed detections
    assert c.get("/api/v1/reviews?state=pending", headers=op1).status_code == 404
    assert c.get(f"/api/v1/reviews/{rodent_id}", headers=op1).status_code == 404
    assert (
        c.post(
            f"/api/v1/reviews/{rodent_id}", json={"decision": "confirm"}, headers=op1
        ).status_code
        == 404
    )

    # --- decisions: the officer looked 2.5 s at the rodent
    clock.advance(seconds=2.5)
    r = c.post(
        f"/api/v1/reviews/{rodent_id}",
        json={"decision": "confirm", "note": "rat by the sink"},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    confirmed = r.json()
    assert confirmed["state"] == "notified" and confirmed["decision_seconds"] == 2.5
    confirmed_at = clock.now
    assert confirmed["fix_due_at"].startswith((confirmed_at + timedelta(hours=72)).isoformat()[:19])
    assert (
        c.post(
            f"/api/v1/reviews/{rodent_id}", json={"decision": "dismiss"}, headers=sup
        ).status_code
        == 409
    )
    # the notice went to the operator (SMS to the registered phone) and the district officer
    assert deliveries(app, rodent_id) == {
        ("sms", "+8613800000001"),
        ("email", "officer-Futian@bureau.example"),
    }
    alert = app.conn.execute(
        "SELECT state, acknowledged_by FROM alert WHERE id = %s", (rodent.alert.id,)
    ).fetchone()
    assert alert[0] == "acknowledged"
    assert credit(app, "K1", sup) == 90  # Fuzhou: a confirmed T1 costs 10 points

    r = c.post(
        f"/api/v1/reviews/{mask_id}",
        json={
            "decision": "dismiss",
            "note": "mannequin",
            "elapsed_ms": 1800,
            "corrected_boxes": {str(mask_evidence): []},
        },
        headers=sup,
    )
    assert (
        r.status_code == 200
        and r.json()["state"] == "dismissed"
        and r.json()["decision_seconds"] == 1.8
    )
    assert (
        app.conn.execute(
            "SELECT state, resolved_by FROM alert WHERE id = %s", (mask.alert.id,)
        ).fetchone()[0]
        == "resolved"
    )
    assert "review_dismissed" in history(app, mask.alert.id, sup)

    # --- the operator's view: its own kitchen, confirmed cases only; other sites are 404
    kitchens = c.get("/api/v1/kitchens", headers=op1).json()["items"]
    assert [k["site_id"] for k in kitchens] == ["K1"] and kitchens[0]["open_cases"] == 1
    assert len(c.get("/api/v1/kitchens", headers=sup).json()["items"]) == 2
    assert c.get("/api/v1/kitchens/K2", headers=op1).status_code == 404
    assert c.get("/api/v1/kitchens/K2/violations", headers=op1).status_code == 404
    assert c.get("/api/v1/kitchens/NOPE/violations", headers=sup).status_code == 404
    own = c.get("/api/v1/kitchens/K1/violations", headers=op1).json()["items"]
    assert [v["code"] for v in own] == [
        "RODENT"
    ]  # the dismissed mask is not the operator's business
    assert [
        v["code"] for v in c.get("/api/v1/kitchens/K1/violations", headers=sup).json()["items"]
    ] == ["NO_MASK", "RODENT"]
    assert c.get(f"/api/v1/reviews/{rodent_id}", headers=op2).status_code == 404
    assert (
        c.post(
            f"/api/v1/reviews/{rodent_id}/transitions",
            json={"to": "rectifying", "note": "x"},
            headers=op2,
        ).status_code
        == 404
    )
    files = {"files": ("fixed.jpg", jpeg(1), "image/jpeg")}
    assert (
        c.post(f"/api/v1/reviews/{rodent_id}/rectification", files=files, headers=op2).status_code
        == 404
    )

    # --- T1: no plan within 2 h -> plan overdue, the officer is told
    clock.advance(hours=2, seconds=1)
    assert app.tick() == 1
    assert "plan_overdue" in history(app, rodent.alert.id, sup)
    # the operator files its plan (late) -> rectifying
    r = c.post(
        f"/api/v1/reviews/{rodent_id}/transitions",
        json={"to": "rectifying", "note": "pest control booked"},
        headers=op1,
    )
    assert r.status_code == 200 and r.json()["state"] == "rectifying"
    assert (
        c.post(
            f"/api/v1/reviews/{rodent_id}/transitions",
            json={"to": "rectifying", "note": "again"},
            headers=op1,
        ).status_code
        == 409
    )

    # --- overdue (72 h), then 5 days overdue: yellow card; 10 days: red card
    fix_due = confirmed_at + timedelta(hours=72)
    clock.now = fix_due + timedelta(seconds=1)
    app.tick()
    assert c.get(f"/api/v1/reviews/{rodent_id}", headers=op1).json()["state"] == "escalated"
    clock.now = fix_due + timedelta(days=5, seconds=1)
    app.tick()
    case = c.get(f"/api/v1/reviews/{rodent_id}", headers=sup).json()
    assert (case["state"], case["card"]) == ("escalated", "yellow")
    assert credit(app, "K1", sup) == 85
    clock.now = fix_due + timedelta(days=10, seconds=1)
    app.tick()
    assert c.get(f"/api/v1/reviews/{rodent_id}", headers=sup).json()["card"] == "red"
    assert credit(app, "K1", op1) == 75
    cards = app.conn.execute(
        "SELECT n.details->>'review_id', count(*) FROM notification n WHERE n.reason = 'notice' GROUP BY 1"
    ).fetchall()
    assert (
        dict(cards)[str(rodent_id)] == 2 * 4
    )  # notice, plan overdue, yellow, red; to two receivers each
    assert c.get("/api/v1/kitchens/K1", headers=op1).json()["open_cards"] == ["red"]

    # --- the operator uploads its evidence (a text file is refused)
    bad = {"files": ("notes.txt", b"we cleaned", "text/plain")}
    assert (
        c.post(f"/api/v1/reviews/{rodent_id}/rectification", files=bad, headers=op1).status_code
        == 415
    )
    clock.advance(hours=1)
    r = c.post(
        f"/api/v1/reviews/{rodent_id}/rectification",
        files=[
            ("files", ("trap.jpg", jpeg(1), "image/jpeg")),
            ("files", ("sealed.jpg", jpeg(2), "image/jpeg")),
        ],
        data={"note": "holes sealed, traps set"},
        headers=op1,
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "evidence_submitted"
    # supervisor verifies: not ok, back to rectifying (and overdue again at once)
    assert (
        c.post(
            f"/api/v1/reviews/{rodent_id}/transitions", json={"to": "verifying"}, headers=op1
        ).status_code
        == 409
    )
    r = c.post(f"/api/v1/reviews/{rodent_id}/transitions", json={"to": "verifying"}, headers=sup)
    assert r.json()["state"] == "verifying"
    r = c.post(
        f"/api/v1/reviews/{rodent_id}/transitions",
        json={"to": "rectifying", "note": "droppings still visible"},
        headers=sup,
    )
    assert r.status_code == 200 and r.json()["state"] == "rectifying"
    app.tick()
    assert c.get(f"/api/v1/reviews/{rodent_id}", headers=sup).json()["state"] == "escalated"
    clock.advance(hours=5)
    r = c.post(
        f"/api/v1/reviews/{rodent_id}/rectification",
        files={"files": ("clean.png", _png(), "image/png")},
        headers=op1,
    )
    assert r.status_code == 201, r.text
    c.post(f"/api/v1/reviews/{rodent_id}/transitions", json={"to": "verifying"}, headers=sup)
    clock.advance(hours=1)
    r = c.post(
        f"/api/v1/reviews/{rodent_id}/transitions",
        json={"to": "closed", "note": "verified on site"},
        headers=sup,
    )
    assert r.status_code == 200 and r.json()["state"] == "closed"
    closed_at = clock.now

    # points restored after compliance (the cards' points stay); evidence kept a year after closing
    assert credit(app, "K1", sup) == 85
    kept = app.conn.execute(
        "SELECT DISTINCT retained_until FROM evidence WHERE alert_id = %s", (rodent.alert.id,)
    ).fetchall()
    assert kept == [(closed_at + timedelta(days=365),)]
    assert app.conn.execute(
        "SELECT state FROM alert WHERE id = %s", (rodent.alert.id,)
    ).fetchone() == ("resolved",)

    # the case as the operator sees it: rectifications with their files, hash-checked on read
    case = c.get(f"/api/v1/reviews/{rodent_id}", headers=op1).json()
    assert [r["result"] for r in case["rectifications"]] == ["rejected", "accepted"]
    first_file = case["rectifications"][0]["files"][0]
    got = c.get(first_file["url"], headers=op1)
    assert (
        got.status_code == 200
        and got.content == jpeg(1)
        and got.headers["content-type"] == "image/jpeg"
    )
    assert first_file["sha256"] == hashlib.sha256(jpeg(1)).hexdigest()
    assert c.get(first_file["url"], headers=op2).status_code == 404
    (rel,) = app.conn.execute(
        "SELECT path FROM rectification_file WHERE id = %s", (first_file["id"],)
    ).fetchone()
    assert rel.startswith(f"rectifications/K1/{rodent_id}/")
    stored = Path(data_dir) / rel
    stored.write_bytes(b"\xff\xd8\xff tampered")
    assert c.get(first_file["url"], headers=sup).status_code == 409

    # the history holds every step, who and when
    steps = history(app, rodent.alert.id, sup)
    for action in (
        "fired",
        "review_queued",
        "refired",
        "acknowledged",
        "review_confirmed",
        "notice_rectification",
        "plan_overdue",
        "notice_plan_overdue",
        "plan_submitted",
        "overdue",
        "card_issued",
        "notice_card",
        "evidence_submitted",
        "verification_started",
        "rectification_rejected",
        "case_closed",
        "resolved",
    ):
        assert action in steps, action
    assert steps.count("card_issued") == 2
    events = c.get(f"/api/v1/alerts/{rodent.alert.id}/history", headers=sup).json()["items"]
    actors = {e["action"]: e["actor"] for e in events}
    assert actors["plan_submitted"].startswith("operator:") and actors["card_issued"] == "clock"
    assert actors["review_confirmed"].startswith("supervisor:")

    # the console's page of the alert tells the same story in each reader's language: every
    # step by its name (no raw action code), the notes the review workflow writes in the
    # reader's words, a person's own note as written; evidence pictures for those who may
    # open them, the notifications for staff
    pages = {lang: alert_page(app, rodent.alert.id, sup, lang) for lang in ("zh-CN", "en")}
    for lang, (rows, page) in pages.items():
        assert [a for a, _ in rows] == [e["action"] for e in events], lang
        # every step is one the page knows, named from the catalogue in the reader's language
        named = [translate(lang, ACTIONS[action]) for action, _ in rows if action in ACTIONS]
        assert [name for _, name in rows] == named, (lang, rows)
        assert "verified on site" in page and 'id="alert-notifications"' in page
        assert all(f"/api/v1/evidence/{e}.jpg" in page for e in rat_evidence)
    zh = dict(pages["zh-CN"][0])
    assert all(zh[action] != action for action in zh), zh  # translated, not the code
    assert zh["card_issued"] == "已发牌" and dict(pages["en"][0])["card_issued"] == "card issued"
    assert f"审核 {rodent_id} 确认" in pages["zh-CN"][1] and "定时任务" in pages["zh-CN"][1]
    assert f"confirmed in review {rodent_id}" in pages["en"][1]
    assert f"已整改，审核 {rodent_id} 结案" in pages["zh-CN"][1]
    assert f"rectified, review {rodent_id} closed" in pages["en"][1]
    _, seen_by_operator = alert_page(app, rodent.alert.id, op1, "zh-CN")
    assert 'id="alert-notifications"' not in seen_by_operator  # staff only
    _, dismissed = alert_page(app, mask.alert.id, op1, "zh-CN")
    assert "/api/v1/evidence/" not in dismissed  # a dismissed case's pictures stay hidden
    assert f"误报（审核 {mask_id}）" in dismissed
    assert c.get(f"/console/views/alerts/{rodent.alert.id}", headers=op2).status_code == 404

    # --- T2 at K2: fixed on time, straight from the notice
    c.post(f"/api/v1/reviews/{smoking_id}", json={"decision": "confirm"}, headers=sup)
    clock.advance(days=1)
    r = c.post(
        f"/api/v1/reviews/{smoking_id}/rectification",
        files={"files": ("ok.jpg", jpeg(5), "image/jpeg")},
        headers=op2,
    )
    assert r.status_code == 201
    c.post(f"/api/v1/reviews/{smoking_id}/transitions", json={"to": "verifying"}, headers=sup)
    assert (
        c.post(
            f"/api/v1/reviews/{smoking_id}/transitions", json={"to": "closed"}, headers=sup
        ).json()["state"]
        == "closed"
    )
    assert credit(app, "K2", op2) == 100  # 5 points taken, 5 restored
    assert c.get("/api/v1/reviews?state=closed", headers=sup).json()["items"][0]["id"] == smoking_id


def _png() -> bytes:
    import cv2
    import numpy as np

    ok, buf = cv2.imencode(".png", np.zeros((8, 8, 3), dtype=np.uint8))
    assert ok
    return buf.tobytes()


def test_t3_is_closed_at_confirmation_and_refires_do_not_requeue(app: App, make_token: Any) -> None:
    sup, admin = make_token("supervisor"), make_token("admin")
    register(app, admin)
    store, clock = app.runtime.alert_store, app.clock
    hat = raise_violation(app.conn, store, "NO_HAT", "K1", "cam1", "T3", clock.now)
    assert hat is not None
    (item,) = app.client.get("/api/v1/reviews", headers=sup).json()["items"]
    r = app.client.post(f"/api/v1/reviews/{item['id']}", json={"decision": "confirm"}, headers=sup)
    assert r.json()["state"] == "closed" and r.json()["points"] == 2
    assert deliveries(app, item["id"]) == set()  # Hubei T3: no notice
    assert credit(app, "K1", sup) == 98
    # the hat is still missing: the same alert refires, nothing new to review
    raise_violation(app.conn, store, "NO_HAT", "K1", "cam1", "T3", clock.now)
    assert app.client.get("/api/v1/reviews", headers=sup).json()["items"] == []
    # a dismissed detection that comes back at once is not queued again (cooldown)
    mask = raise_violation(app.conn, store, "NO_MASK", "K1", "cam2", "T3", clock.now)
    assert mask is not None
    (item,) = app.client.get("/api/v1/reviews", headers=sup).json()["items"]
    app.client.post(f"/api/v1/reviews/{item['id']}", json={"decision": "dismiss"}, headers=sup)
    clock.advance(seconds=70)
    back = raise_violation(app.conn, store, "NO_MASK", "K1", "cam2", "T3", clock.now)
    assert back is not None and back.alert.id != mask.alert.id
    assert app.client.get("/api/v1/reviews", headers=sup).json()["items"] == []
    assert "review_suppressed" in history(app, back.alert.id, sup)
    clock.advance(minutes=11)
    raise_violation(app.conn, store, "NO_MASK", "K1", "cam2", "T3", clock.now, active=False)
    clock.advance(minutes=2)
    later = raise_violation(app.conn, store, "NO_MASK", "K1", "cam2", "T3", clock.now)
    assert later is not None
    assert [
        i["alert_id"] for i in app.client.get("/api/v1/reviews", headers=sup).json()["items"]
    ] == [later.alert.id]
