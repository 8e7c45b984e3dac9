"""Console views render only what the caller may see (the API's role scoping), and the
live alert stream is scoped the same way."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.api.web import views
from brightwatch.registry import store
from brightwatch.registry.models import ElevatorRecord, FirmRecord
from brightwatch.settings import Settings
from tests.support.alerts import fire, fire_trapped
from tests.web.conftest import register_kitchen


def setup_city(db_url: str) -> None:
    register_kitchen(db_url)
    with psycopg.connect(db_url) as conn:
        for firm in ("FA", "FB"):
            store.upsert_firm(conn, firm, FirmRecord(name=f"Firm {firm}"))
        store.upsert_elevator(conn, "EA1", ElevatorRecord(firm_id="FA", address="1 A Road"))
        store.upsert_elevator(conn, "EB1", ElevatorRecord(firm_id="FB", address="1 B Road"))


@pytest.fixture
def sup(db_url: str, make_token) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A supervisor's headers in the city of `setup_city`."""
    setup_city(db_url)
    return make_token("supervisor")


def test_console_shell_has_no_data_and_no_external_assets(web_client: TestClient) -> None:
    r = web_client.get("/")
    assert r.status_code == 200 and 'id="signin"' in r.text
    assert "http://" not in r.text and "https://" not in r.text
    for asset in ("/static/console.js", "/static/console.css", "/static/public.css"):
        a = web_client.get(asset)
        assert a.status_code == 200 and "max-age" in a.headers["cache-control"]
        assert "https://" not in a.text  # nothing fetched from the internet


def test_views_need_a_token(web_client: TestClient) -> None:
    for path in (
        "/console/views/alerts",
        "/console/views/alerts/1",
        "/console/views/tickets",
        "/console/views/kitchens/K1",
    ):
        assert web_client.get(path).status_code == 401
        assert web_client.get(path, headers={"Authorization": "Bearer bw_nope"}).status_code == 401


def test_firm_sees_only_its_own(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    own = fire(web_settings, "EA1")
    other = fire(web_settings, "EB1")
    fa = make_token("firm", firm_id="FA")
    sup = make_token("supervisor")
    r = web_client.post(
        "/api/v1/silences",
        json={"matchers": ["device_id=EA1"], "duration_s": 3600, "comment": "lift in repair"},
        headers=sup,
    )
    assert r.status_code == 201, r.text
    staff = web_client.get(f"/console/views/alerts/{own}", headers=sup).text
    assert 'data-action="unsilence"' in staff and "lift in repair" in staff
    # a firm reads its elevator's alert page, not the bureau's routing and silences
    page = web_client.get(f"/console/views/alerts/{own}", headers=fa)
    assert page.status_code == 200 and 'data-view="alert"' in page.text
    assert "alert-notifications" not in page.text and "unsilence" not in page.text
    assert web_client.get(f"/console/views/alerts/{other}", headers=fa).status_code == 404
    listing = web_client.get("/console/views/elevators", headers=fa).text
    assert "EA1" in listing and "EB1" not in listing
    assert web_client.get("/console/views/elevators/EA1", headers=fa).status_code == 200
    assert web_client.get("/console/views/elevators/EB1", headers=fa).status_code == 404
    alerts = web_client.get("/console/views/alerts", headers=fa).text
    assert "EA1" in alerts and "EB1" not in alerts
    assert 'data-action="ack"' not in alerts  # firms do not acknowledge alerts
    for path in ("/console/views/kitchens", "/console/views/kitchens/K1", "/console/views/review"):
        assert web_client.get(path, headers=fa).status_code == 404, path


def test_operator_sees_only_its_kitchen(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    with psycopg.connect(db_url) as conn:
        from brightwatch.registry.models import SiteRecord

        store.upsert_site(conn, "K2", SiteRecord(name="Other Kitchen"))
    fire(web_settings, "hot", code="NO_MASK", kind="kitchen", site="K1", severity="T3")
    fire(web_settings, "x", code="RODENT", kind="kitchen", site="K2", severity="T1")
    op = make_token("operator", site_id="K1")
    page = web_client.get("/console/views/kitchens/K1", headers=op)
    assert page.status_code == 200 and "NO_MASK" in page.text and "RODENT" not in page.text
    assert web_client.get("/console/views/kitchens/K2", headers=op).status_code == 404
    assert "K2" not in web_client.get("/console/views/kitchens", headers=op).text
    assert web_client.get("/console/views/elevators", headers=op).status_code == 404


def test_supervisor_views(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    alert_id = fire(web_settings, "EA1")
    sup = make_token("supervisor")
    alerts = web_client.get("/console/views/alerts", headers=sup).text
    assert f'data-action="ack" data-id="{alert_id}"' in alerts and "非平层困人" in alerts
    page = web_client.get("/console/views/elevators/EA1", headers=sup).text
    assert "TRAPPED_OUT_ZONE" in page and 'class="timeline"' in page
    assert web_client.get("/console/views/kitchens/K1", headers=sup).status_code == 200
    assert web_client.get("/console/views/review", headers=sup).status_code == 200
    assert web_client.get("/console/views/nope", headers=sup).status_code == 404


def _read_events(
    client: TestClient, headers: dict[str, str], want: int, out: list[dict[str, Any]]
) -> None:
    with client.stream("GET", "/api/v1/alerts/stream", headers=headers) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
                if len(out) >= want:
                    return


@pytest.fixture
def fast_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live stream polled every 50 ms and closed after 20 s."""
    import brightwatch.api.routes.console as console

    monkeypatch.setattr(console, "STREAM_POLL_S", 0.05)
    monkeypatch.setattr(console, "STREAM_LIFETIME_S", 20.0)


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("fast_stream")
def test_alert_stream_is_scoped(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    fire(web_settings, "EA1", code="OVERSPEED", severity="P2")  # before the stream: not sent
    seen_firm: list[dict[str, Any]] = []
    seen_sup: list[dict[str, Any]] = []
    readers = [
        threading.Thread(
            target=_read_events, args=(web_client, make_token("firm", firm_id="FA"), 1, seen_firm)
        ),
        threading.Thread(
            target=_read_events, args=(web_client, make_token("supervisor"), 2, seen_sup)
        ),
    ]
    for t in readers:
        t.start()
    import time

    time.sleep(1.0)  # both streams connected and past their starting cursor
    fire(web_settings, "EB1")  # firm B's: the firm A stream must not see it
    fire(web_settings, "EA1")
    for t in readers:
        t.join(30)
    assert [e["device_id"] for e in seen_sup] == ["EB1", "EA1"]
    assert [e["device_id"] for e in seen_firm] == ["EA1"]
    assert seen_firm[0]["action"] == "fired" and seen_firm[0]["code"] == "TRAPPED_OUT_ZONE"


BOTH = {"zh-CN": "EA1 停在 3 层与 4 层之间，有人被困", "en": "EA1 stopped between floors 3 and 4"}


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("fast_stream")
def test_a_summary_in_every_language_reaches_each_reader_in_theirs(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """The API keeps the deployment's `summary` and adds `summaries`; the console's list and
    its live stream speak the reader's language (`?lang=`, or the language cookie)."""
    setup_city(db_url)
    sup = make_token("supervisor")
    alert_id = fire(web_settings, "EA1", summary=BOTH["zh-CN"], summaries=BOTH)
    (item,) = web_client.get("/api/v1/alerts", headers=sup).json()["items"]
    assert item["summary"] == BOTH["zh-CN"] and item["summaries"] == BOTH
    assert web_client.get(f"/api/v1/alerts/{alert_id}", headers=sup).json() == item
    (open_alert,) = web_client.get("/api/v1/elevators/EA1", headers=sup).json()["open_alerts"]
    assert open_alert["summaries"] == BOTH
    for lang, shown, hidden in (("en", "en", "zh-CN"), ("zh-CN", "zh-CN", "en")):
        page = web_client.get(f"/console/views/alerts?lang={lang}", headers=sup).text
        assert BOTH[shown] in page and BOTH[hidden] not in page, lang
    seen: list[dict[str, Any]] = []
    web_client.cookies.set("bw_lang", "en")
    try:
        reader = threading.Thread(target=_read_events, args=(web_client, sup, 1, seen))
        reader.start()
        import time

        time.sleep(1.0)  # connected and past its starting cursor
        fire(
            web_settings,
            "EA1",
            code="OVERSPEED",
            severity="P2",
            summary="超速",
            summaries={"zh-CN": "超速", "en": "Overspeed"},
        )
        reader.join(30)
    finally:
        web_client.cookies.clear()
    assert [(e["code"], e["summary"]) for e in seen] == [("OVERSPEED", "Overspeed")]


def test_calendar_shows_due_tickets_and_planned_dates_of_the_firm(
    web_client: TestClient,
    db_url: str,
    make_token,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    """Maintenance tickets of the firm and the planner's dates before their ticket opens."""
    setup_city(db_url)
    from datetime import timedelta

    now = clock()
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO ticket (type, state, elevator_id, firm_id, trigger, due_at, created_at, updated_at)"
            " VALUES ('quarterly', 'dispatched', 'EA1', 'FA', 'DUE_DATE', %s, %s, %s),"
            " ('quarterly', 'dispatched', 'EB1', 'FB', 'DUE_DATE', %s, %s, %s)",
            (now + timedelta(days=2), now, now, now + timedelta(days=2), now, now),
        )
        store.upsert_elevator(conn, "EA2", ElevatorRecord(firm_id="FA", address="2 A Road"))
        conn.execute(
            "INSERT INTO maintenance_plan (elevator_id, computed_at, reason, eligible, eligibility,"
            " risk_score, factors, interval_days, interval_reason, next_due_at, calendar, inputs)"
            " VALUES ('EA2', %s, 'daily', true, '[]', 0.3, '[]', 21, 'risk', %s, '{}', '{}')",
            (now, now + timedelta(days=12)),
        )
    page = web_client.get("/console/views/calendar", headers=make_token("firm", firm_id="FA")).text
    assert "EA1" in page and "EA2" in page and 'data-state="planned"' in page
    assert "(计划中)" in page  # the default language, zh-CN
    assert "EB1" not in page


def test_tickets_name_their_trigger_in_the_pages_language(
    web_client: TestClient,
    db_url: str,
    make_token,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    """A planner trigger (DUE_DATE, HEALTH_3SIGMA, OFFLINE_24H) is named beside its code in
    Chinese and in English; an alert code by its catalogue name (Chinese only)."""
    setup_city(db_url)
    now = clock()
    with psycopg.connect(db_url) as conn:
        store.upsert_elevator(conn, "EA2", ElevatorRecord(firm_id="FA", address="2 A Road"))
        for kind, elevator, trigger in (
            ("quarterly", "EA1", "DUE_DATE"),
            ("on_demand", "EA1", "HEALTH_3SIGMA"),
            ("on_demand", "EA2", "OFFLINE_24H"),
            ("rescue", "EA1", "TRAPPED_OUT_ZONE"),
        ):
            conn.execute(
                "INSERT INTO ticket (type, state, elevator_id, firm_id, trigger, due_at,"
                " created_at, updated_at) VALUES (%s, 'dispatched', %s, 'FA', %s, %s, %s, %s)",
                (kind, elevator, trigger, now, now, now),
            )
    headers = make_token("firm", firm_id="FA")
    zh = web_client.get("/console/views/tickets", headers=headers).text
    for text in (
        "维保到期",
        "健康指标超出 3σ 达 24 小时",
        "监测终端离线超过 24 小时",
        "非平层困人",
    ):
        assert text in zh, text
    en = web_client.get("/console/views/tickets?lang=en", headers=headers).text
    for text in ("maintenance due", "health indicator beyond 3σ for 24 h", "terminal offline"):
        assert text in en, text
    assert "非平层困人" not in en and "维保到期" not in en
    # the elevator's own page lists its tickets the same way, and the service's own alert
    # code (an SLA breach) by its name
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO alert (kind, code, severity, state, device_id, fingerprint, started_at,"
            " updated_at, last_raised_at) VALUES ('elevator', 'TICKET_SLA_BREACH', 'P1',"
            " 'firing', 'EA1', 'sla-breach-ea1', %s, %s, %s)",
            (now, now, now),
        )
    page = web_client.get("/console/views/elevators/EA1", headers=headers).text
    assert "维保到期" in page and "健康指标超出 3σ 达 24 小时" in page and "工单超时" in page


# ------------------------------------------------------------------ language and local time

SHANGHAI_1814Z = datetime(2026, 11, 19, 18, 14, tzinfo=UTC)  # 02:14 on the 20th in Shanghai


def test_the_shell_speaks_the_chosen_language(web_client: TestClient) -> None:
    """zh-CN by default; `?lang=` and the `bw_lang` cookie choose English; the page embeds
    console.js's strings and zone as JSON that cannot close its <script>."""
    zh = web_client.get("/").text
    assert '<html lang="zh-CN">' in zh and "登录" in zh and "Sign in" not in zh
    data = json.loads(
        zh.split('<script id="bw-i18n" type="application/json">')[1].split("</script>")[0]
    )
    assert data["locale"] == "zh-CN" and data["timezone"] == "Asia/Shanghai"
    assert data["messages"]["The queue is empty."] == "队列已清空。"
    en = web_client.get("/?lang=en").text
    assert '<html lang="en">' in en and "Sign in" in en and "登录" not in en
    web_client.cookies.set("bw_lang", "en")
    try:
        assert '<html lang="en">' in web_client.get("/").text
        assert (
            json.loads(
                web_client.get("/").text.split('type="application/json">')[1].split("</script>")[0]
            )["messages"]
            == {}
        )
    finally:
        web_client.cookies.clear()


def test_catalogue_strings_cannot_break_out_of_the_embedded_json(
    web_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import brightwatch.api.routes.console as console

    monkeypatch.setattr(console, "messages", lambda locale, source: {"x": "</script><b>"})
    page = web_client.get("/").text
    embedded = page.split('type="application/json">')[1].split("</script>")[0]
    assert json.loads(embedded)["messages"] == {"x": "</script><b>"}


def _fire_at(settings: Settings, at: datetime, device: str = "EA1") -> int:
    return fire_trapped(settings, device, at)


def test_alert_times_are_local_with_the_offset(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    alert_id = _fire_at(web_settings, SHANGHAI_1814Z)
    sup = make_token("supervisor")
    for lang in ("zh-CN", "en"):
        page = web_client.get(f"/console/views/alerts?lang={lang}", headers=sup).text
        row = page.split(f'data-alert="{alert_id}"')[1].split("</tr>")[0]
        assert "2026-11-20 02:14:00 (+08:00)" in row, row
        assert 'datetime="2026-11-20T02:14:00+08:00"' in row
        assert "18:14" not in row


def test_calendar_days_are_local_days(
    web_client: TestClient, db_url: str, make_token, clock
) -> None:  # type: ignore[no-untyped-def]
    """A maintenance ticket due at 17:30Z on the 21st is due on the 22nd in Shanghai."""
    setup_city(db_url)
    due = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO ticket (type, state, elevator_id, firm_id, trigger, due_at, created_at,"
            " updated_at) VALUES ('quarterly', 'dispatched', 'EA1', 'FA', 'DUE_DATE', %s, %s, %s)",
            (due, clock(), clock()),
        )
    page = web_client.get("/console/views/calendar", headers=make_token("firm", firm_id="FA")).text
    day = page.split('data-date="2026-11-22"')[1].split('<div class="day')[0]
    assert "EA1" in day
    assert "EA1" not in page.split('data-date="2026-11-21"')[1].split('<div class="day')[0]
    today = page.split('class="day today')[1].split(">")[0]
    assert 'data-date="2026-11-20"' in today  # NOON is Friday 12:00 in Shanghai


def test_a_ticket_without_a_firm_offers_the_firms_to_dispatch_to(
    web_client: TestClient, db_url: str, make_token, clock
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    with psycopg.connect(db_url) as conn:
        store.upsert_elevator(conn, "EC1", ElevatorRecord(address="无维保单位的电梯"))
        ticket_id = conn.execute(
            "INSERT INTO ticket (type, state, elevator_id, trigger, created_at, updated_at)"
            " VALUES ('repair', 'created', 'EC1', 'DOOR_OPEN_FAIL', %s, %s) RETURNING id",
            (clock(), clock()),
        ).fetchone()[0]
    sup = make_token("supervisor")
    page = web_client.get("/console/views/tickets", headers=sup).text
    row = page.split(f'data-ticket="{ticket_id}"')[1].split("</tr>")[0]
    assert 'data-action="dispatch"' in row and "派单给…" in row
    assert 'id="dispatch-dialog"' in page and '<option value="FA">' in page
    r = web_client.post(
        f"/api/v1/tickets/{ticket_id}/transitions",
        headers=sup,
        json={"to": "dispatched", "firm_id": "FB"},
    )
    assert r.status_code == 200, r.text
    # a firm's own view offers no dispatching at all
    fa = web_client.get("/console/views/tickets", headers=make_token("firm", firm_id="FA")).text
    assert 'id="dispatch-dialog"' not in fa


def test_who_acknowledged_reads_as_a_role_not_an_audit_id(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    alert_id = fire(web_settings, "EA1")
    sup = make_token("supervisor")
    assert web_client.post(f"/api/v1/alerts/{alert_id}/ack", headers=sup, json={}).status_code < 300
    page = web_client.get("/console/views/alerts", headers=sup).text
    row = page.split(f'data-alert="{alert_id}"')[1].split("</tr>")[0]
    assert 'data-state="acknowledged"' in row and "已受理" in row
    assert "受理人 监管人员 #" in row and "supervisor:" not in row


def test_the_alert_list_filters_by_kind_and_says_what_it_leaves_out(
    web_client: TestClient,
    web_settings: Settings,
    sup: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lift = [fire(web_settings, device) for device in ("EA1", "EB1")]
    kitchen = fire(web_settings, "hot", code="NO_MASK", kind="kitchen", site="K1", severity="T3")

    def listed(query: str) -> tuple[set[int], str]:
        page = web_client.get(f"/console/views/alerts?{query}", headers=sup).text
        return {int(i) for i in re.findall(r'<tr data-alert="(\d+)"', page)}, page

    assert listed("kind=elevator")[0] == set(lift) and listed("kind=kitchen")[0] == {kitchen}
    everything, page = listed("state=open")
    assert everything == {*lift, kitchen} and 'id="alerts-left-out"' not in page
    monkeypatch.setattr(views, "ALERTS_SHOWN", 2)
    shown, page = listed("state=open")
    assert len(shown) == 2 and "共 3 条告警，显示最紧急的 2 条" in page
    assert kitchen not in shown  # P1 before T3
    info = fire(web_settings, "EA1", code="INSPECTION_MODE", severity="INFO")
    rodent = fire(web_settings, "cold", code="RODENT", kind="kitchen", site="K1", severity="T1")
    monkeypatch.setattr(views, "ALERTS_SHOWN", 10)
    order = re.findall(r'<tr data-alert="(\d+)"', listed("state=open")[1])
    # the most urgent first across both catalogues (contract.codes.SEVERITY_RANK: P1 and T1
    # alike, the newest first among them), INFO last
    assert [int(i) for i in order] == [rodent, *sorted(lift, reverse=True), kitchen, info]
    assert web_client.get("/console/views/alerts?kind=boiler", headers=sup).status_code == 422


def test_the_ticket_list_says_what_it_leaves_out(
    web_client: TestClient,
    web_settings: Settings,
    sup: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for device in ("EA1", "EB1"):  # each trapped passenger opens a rescue ticket
        fire(web_settings, device)
    page = web_client.get("/console/views/tickets?state=all", headers=sup).text
    assert len(re.findall(r'<tr data-ticket="', page)) == 2 and "tickets-left-out" not in page
    monkeypatch.setattr(views, "TICKETS_SHOWN", 1)
    page = web_client.get("/console/views/tickets?state=all", headers=sup).text
    assert len(re.findall(r'<tr data-ticket="', page)) == 1
    assert "共 2 张工单，显示最新的 1 张" in page


def test_anyone_who_sees_an_alert_may_add_a_note_to_its_history(
    web_client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
    web_settings: Settings,
    sup: dict[str, str],
) -> None:
    own, other = fire(web_settings, "EA1"), fire(web_settings, "EB1")
    fa = make_token("firm", firm_id="FA")
    said = "  已联系维保单位，技术员 14:05 到场  "
    r = web_client.post(f"/api/v1/alerts/{own}/notes", json={"note": said}, headers=sup)
    assert r.status_code == 201, r.text
    assert (r.json()["action"], r.json()["note"]) == ("noted", said.strip())
    assert r.json()["actor"].startswith("supervisor:")
    r = web_client.post(f"/api/v1/alerts/{own}/notes", json={"note": "on site"}, headers=fa)
    assert r.status_code == 201 and r.json()["actor"].startswith("firm:")
    history = web_client.get(f"/api/v1/alerts/{own}/history", headers=sup).json()["items"]
    assert [e["note"] for e in history if e["action"] == "noted"] == [said.strip(), "on site"]
    assert web_client.get(f"/api/v1/alerts/{own}", headers=sup).json()["state"] == "firing"
    page = web_client.get(f"/console/views/alerts/{own}", headers=sup).text
    assert said.strip() in page and 'data-note="' in page
    # outside the caller's scope, unknown, empty or unstorable: refused
    for alert_id, body, who, status in (
        (other, {"note": "x"}, fa, 404),
        (999_999, {"note": "x"}, sup, 404),
        (own, {"note": "   "}, sup, 422),
        (own, {}, sup, 422),
        (own, {"note": "x" * 2001}, sup, 422),
        (own, {"note": "a\x00b"}, sup, 422),
    ):
        r = web_client.post(f"/api/v1/alerts/{alert_id}/notes", json=body, headers=who)
        assert r.status_code == status, (alert_id, body, r.text)
    assert web_client.post(f"/api/v1/alerts/{own}/notes", json={"note": "x"}).status_code == 401


def test_an_elevator_and_a_kitchen_page_say_what_they_leave_out(
    web_client: TestClient,
    web_settings: Settings,
    sup: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for code in ("TRAPPED_OUT_ZONE", "OVERSPEED"):
        fire(web_settings, "EA1", code=code, severity="P2")
    for code in ("NO_MASK", "PHONE"):
        fire(web_settings, "hot", code=code, kind="kitchen", site="K1", severity="T3")
    pages = ("/console/views/elevators/EA1", "/console/views/kitchens/K1")
    for path in pages:
        assert "left-out" not in web_client.get(path, headers=sup).text
    monkeypatch.setattr(views, "FAULTS_SHOWN", 1)
    monkeypatch.setattr(views, "VIOLATIONS_SHOWN", 1)
    for path, marker in zip(
        pages, ('id="faults-left-out"', 'id="violations-left-out"'), strict=True
    ):
        page = web_client.get(path, headers=sup).text
        assert marker in page and "共 2 条，显示最新的 1 条。" in page, path
        assert len(re.findall(r'href="#/alerts/\d+"', page)) == 1, path
