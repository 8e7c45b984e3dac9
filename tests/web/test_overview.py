"""The supervisor's overview: every figure from known rows (local days in Asia/Shanghai,
where 16:30Z is already the next day), the charts' data embedded as JSON in the reader's
language, staff only, and the chart library served from /static as vendored."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.registry import store
from brightwatch.registry.models import CameraRecord, ElevatorRecord, FirmRecord, SiteRecord
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.web.browser import browser_page, screenshot, serve
from tests.web.conftest import NOON, Clock, register_kitchen

VENDOR = Path(__file__).resolve().parents[2] / "api" / "web" / "static" / "vendor"
M = timedelta(minutes=1)


def alert(
    conn: psycopg.Connection[Any],
    kind: str,
    code: str,
    severity: str,
    device: str,
    at: datetime,
    state: str = "firing",
    site: str | None = None,
) -> int:
    row = conn.execute(
        "INSERT INTO alert (kind, code, severity, state, device_id, site_id, fingerprint,"
        " started_at, updated_at, last_raised_at, resolved_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            kind,
            code,
            severity,
            state,
            device,
            site,
            f"{device}/{code}/{at.isoformat()}",
            at,
            at,
            at,
            at + M if state == "resolved" else None,
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


def rescue(
    conn: psycopg.Connection[Any],
    elevator: str,
    state: str,
    confirmed: datetime,
    due: datetime,
    met: datetime | None = None,
    type_: str = "rescue",
) -> int:
    row = conn.execute(
        "INSERT INTO ticket (type, state, elevator_id, firm_id, trigger, confirmed_at,"
        " created_at, updated_at, arrived_at) VALUES (%s, %s, %s, 'FA', 'TRAPPED_OUT_ZONE',"
        " %s, %s, %s, %s) RETURNING id",
        (type_, state, elevator, confirmed, confirmed, confirmed, met),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO ticket_clock (ticket_id, step, firm_id, started_at, due_at, met_at)"
        " VALUES (%s, 'arrived', 'FA', %s, %s, %s)",
        (row[0], confirmed, due, met),
    )
    return int(row[0])


def presence(
    conn: psycopg.Connection[Any], site: str, camera: str, availability: str, seen: datetime
) -> None:
    conn.execute(
        "INSERT INTO device_presence (device_kind, device_key, device_id, site_id, availability,"
        " availability_at, last_seen) VALUES ('camera', %s, %s, %s, %s, %s, %s)",
        (f"{site}/{camera}", camera, site, availability, seen, seen),
    )


def review(conn: psycopg.Connection[Any], alert_id: int, state: str, created: datetime) -> None:
    conn.execute(
        "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, code, tier, state,"
        " detected_at, created_at, updated_at)"
        " VALUES (%s, %s, 'K1', 'hot', 'NO_MASK', 'T3', %s, %s, %s, %s)",
        (alert_id, f"r{alert_id}", state, created, created, created),
    )


@pytest.fixture
def city(db_url: str) -> dict[str, int]:
    """A small city at NOON (2026-11-20 12:00 in Shanghai, 04:00Z)."""
    register_kitchen(db_url)  # K1: cameras hot, cold, store
    ids: dict[str, int] = {}
    with psycopg.connect(db_url) as conn:
        store.upsert_firm(conn, "FA", FirmRecord(name="Firm A"))
        for e, address in (("EA1", "1 A Road"), ("EA2", "2 A Road"), ("EA3", "3 A Road")):
            store.upsert_elevator(conn, e, ElevatorRecord(firm_id="FA", address=address))
        store.upsert_site(conn, "K2", SiteRecord(name="Other Kitchen"))
        store.upsert_camera(conn, "K2", "c1", CameraRecord(work_area="cooking"))
        # elevator alerts: two open P1 (one acknowledged), one open P2; none of the rest counts
        ids["p1"] = alert(conn, "elevator", "TRAPPED_OUT_ZONE", "P1", "EA1", NOON - 20 * M)
        ids["p1_ack"] = alert(
            conn, "elevator", "UCM", "P1", "EA2", NOON - 120 * M, state="acknowledged"
        )
        alert(conn, "elevator", "OVERSPEED", "P1", "EA3", NOON - 3 * 1440 * M, state="resolved")
        alert(conn, "elevator", "DOOR_OPEN_FAIL", "P2", "EA3", NOON - 5 * M)
        alert(conn, "elevator", "FLOOR_LOST", "P3", "EA3", NOON - 6 * M)
        alert(conn, "elevator", "OFFLINE", "P3", "EA2", NOON - 8 * 1440 * M)  # outside the week
        # kitchen violations: 16:30Z is 00:30 on the 20th in Shanghai (today), 15:30Z the 19th
        ids["mask_early"] = alert(
            conn,
            "kitchen",
            "NO_MASK",
            "T3",
            "hot",
            datetime(2026, 11, 19, 16, 30, tzinfo=UTC),
            site="K1",
        )
        ids["mask"] = alert(conn, "kitchen", "NO_MASK", "T3", "cold", NOON - 60 * M, site="K1")
        ids["phone"] = alert(conn, "kitchen", "PHONE", "T3", "hot", NOON - 30 * M, site="K1")
        ids["rodent"] = alert(
            conn,
            "kitchen",
            "RODENT",
            "T1",
            "c1",
            datetime(2026, 11, 19, 15, 30, tzinfo=UTC),
            site="K2",
        )
        # rescues: late (due 10 min ago, not arrived), on time, arrived in time; not counted:
        # a completed rescue and an open repair
        ids["late"] = rescue(conn, "EA1", "accepted", NOON - 40 * M, NOON - 10 * M)
        ids["fresh"] = rescue(conn, "EA2", "dispatched", NOON - 10 * M, NOON + 20 * M)
        ids["there"] = rescue(
            conn, "EA3", "arrived", NOON - 25 * M, NOON + 5 * M, met=NOON - 15 * M
        )
        rescue(conn, "EA3", "completed", NOON - 3 * 60 * M, NOON - 150 * M, type_="rescue")
        rescue(conn, "EA1", "dispatched", NOON - 50 * M, NOON + 180 * M, type_="repair")
        # cameras: K1/hot streaming; K1/cold online but silent past the 5-min window;
        # K1/store reported offline; K2/c1 never seen
        presence(conn, "K1", "hot", "online", NOON - 1 * M)
        presence(conn, "K1", "cold", "online", NOON - 10 * M)
        presence(conn, "K1", "store", "offline", NOON - M / 6)
        # the review queue: two waiting (the oldest for 90 min), one decided
        review(conn, ids["mask_early"], "pending_review", NOON - 90 * M)
        review(conn, ids["mask"], "pending_review", NOON - 30 * M)
        review(conn, ids["phone"], "dismissed", NOON - 200 * M)
    return ids


def figures(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-figure="([a-z0-9-]+)">(\d+)<', html)}


def chart_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="ov-data">(.*?)</script>', html, re.S)
    assert found, "the charts' data is embedded"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def row_of(html: str, attr: str, value: int | str) -> str:
    found = re.search(rf'<tr {attr}="{value}"[^>]*>.*?</tr>', html, re.S)
    assert found, f"row {attr}={value}"
    return found.group(0)


def test_overview_figures(
    web_client: TestClient, city: dict[str, int], make_token: Callable[..., dict[str, str]]
) -> None:
    r = web_client.get("/console/views/overview", headers=make_token("supervisor"))
    assert r.status_code == 200, r.text
    html = r.text
    assert figures(html) == {
        "p1": 2,
        "p2": 1,
        "rescues": 3,
        "kitchens-streaming": 1,
        "kitchens": 2,
        "cameras-streaming": 1,
        "cameras": 4,
        "pending": 2,
        "violations": 3,
    }
    # the P1 list links each elevator and each alert's page; the resolved P1 is not in it
    p1 = row_of(html, "data-alert", city["p1"])
    assert f'href="#/alerts/{city["p1"]}"' in p1
    assert (
        'href="#/elevators/EA1"' in p1
        and "<code>TRAPPED_OUT_ZONE</code>" in p1
        and "非平层困人" in p1
    )
    assert "11-20 11:40 (+08:00)" in p1  # 03:40Z in Shanghai
    assert 'href="#/elevators/EA2"' in row_of(html, "data-alert", city["p1_ack"])
    assert html.count('<tr data-alert="') == 2
    # rescues against the arrival clock: elapsed minutes, local due time, breached or not
    late = row_of(html, "data-ticket", city["late"])
    assert 'data-elapsed="40"' in late and 'data-breached="true"' in late
    assert f'href="#/tickets/{city["late"]}"' in late  # the ticket's own page
    assert "11:50 (+08:00)" in late
    fresh = row_of(html, "data-ticket", city["fresh"])
    assert 'data-elapsed="10"' in fresh and 'data-breached="false"' in fresh
    assert "12:20 (+08:00)" in fresh
    there = row_of(html, "data-ticket", city["there"])
    assert 'data-elapsed="25"' in there and 'data-breached="false"' in there
    assert html.count('<tr data-ticket="') == 3
    # violations today by code; the rodent of the 19th (local) is yesterday's
    assert 'data-code="RODENT"' not in html
    assert 'data-count="2"' in row_of(html, "data-code", "NO_MASK")
    assert 'data-count="1"' in row_of(html, "data-code", "PHONE")
    assert "90" in html and "11-20 10:30 (+08:00)" in html  # the oldest review waits 90 min


def test_overview_charts_data_in_the_readers_language(
    web_client: TestClient, city: dict[str, int], make_token: Callable[..., dict[str, str]]
) -> None:
    sup = make_token("supervisor")
    zh = chart_data(web_client.get("/console/views/overview", headers=sup).text)
    assert zh["violations"]["labels"] == ["NO_MASK 未戴口罩", "PHONE 玩手机"]
    assert zh["violations"]["counts"] == [2, 1]
    week = zh["week"]
    assert week["labels"] == [f"11-{d}" for d in range(14, 21)]
    series = {s["kind"]: s["counts"] for s in week["series"]}
    # elevator: the resolved P1 on the 17th, four today (the 8-day-old one is outside);
    # kitchen: the rodent on the 19th (15:30Z), three today (16:30Z on the 19th included)
    assert series == {"elevator": [0, 0, 0, 1, 0, 0, 4], "kitchen": [0, 0, 0, 0, 0, 1, 3]}
    assert all(isinstance(n, int) for s in week["series"] for n in s["counts"])
    assert re.search(r"[\u4e00-\u9fff]", week["axis"] + week["series"][0]["label"])

    en = chart_data(web_client.get("/console/views/overview?lang=en", headers=sup).text)
    assert en["violations"]["labels"] == ["NO_MASK", "PHONE"]
    assert en["violations"]["axis"] == "Number of violations"
    assert [s["label"] for s in en["week"]["series"]] == ["Elevator alerts", "Kitchen alerts"]


def test_overview_is_for_staff_only(
    web_client: TestClient, city: dict[str, int], make_token: Callable[..., dict[str, str]]
) -> None:
    assert web_client.get("/console/views/overview").status_code == 401
    for token in (make_token("firm", firm_id="FA"), make_token("operator", site_id="K1")):
        assert web_client.get("/console/views/overview", headers=token).status_code in (403, 404)
    assert web_client.get("/console/views/overview", headers=make_token("admin")).status_code == 200


def test_empty_city(web_client: TestClient, make_token: Callable[..., dict[str, str]]) -> None:
    html = web_client.get("/console/views/overview", headers=make_token("supervisor")).text
    assert figures(html) == dict.fromkeys(
        (
            "p1",
            "p2",
            "rescues",
            "kitchens-streaming",
            "kitchens",
            "cameras-streaming",
            "cameras",
            "pending",
            "violations",
        ),
        0,
    )
    data = chart_data(html)
    assert data["violations"]["counts"] == [] and len(data["week"]["labels"]) == 7


def test_chart_library_is_served_locally_as_vendored(web_client: TestClient) -> None:
    readme = (VENDOR / "README.md").read_text()
    recorded = re.search(
        r"`chart\.umd\.min\.js` \| Chart\.js \| (4\.[0-9.]+) \|.*`([0-9a-f]{64})`", readme
    )
    assert recorded, "vendor/README.md names the version and sha256"
    assert (VENDOR / "LICENSE-chart.js.md").read_text().startswith("The MIT License")
    r = web_client.get("/static/vendor/chart.umd.min.js")
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"]
    assert hashlib.sha256(r.content).hexdigest() == recorded.group(2)
    assert f"Chart.js v{recorded.group(1)}" in r.text[:200]
    for asset in ("/static/overview.js", "/static/overview.css"):
        a = web_client.get(asset)
        assert a.status_code == 200 and "https://" not in a.text, asset
    assert "window.bwOverview" in web_client.get("/static/overview.js").text


DRAW = """async ([url, secret]) => {
    const r = await fetch(url, {headers: {Authorization: "Bearer " + secret}});
    const main = document.getElementById("main");
    main.innerHTML = await r.text();
    return window.bwOverview(main).map(c => ({
        canvas: c.canvas.id,
        labels: c.data.labels,
        sets: c.data.datasets.map(d => [d.label, d.data]),
    }));
}"""


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_overview_charts_draw_in_chromium(
    city: dict[str, int], web_settings: Settings, clock: Clock, db_url: str
) -> None:
    """overview.js draws both charts with the vendored Chart.js from the embedded data (the
    console calls `bwOverview(root)` after it puts the fragment in place), in both
    languages; screenshots of each go to the test artefacts."""
    from brightwatch.api.auth import create_token

    with psycopg.connect(db_url) as conn:
        secret = create_token(conn, "supervisor", None, None)[1]
    drawn: dict[str, list[dict[str, Any]]] = {}
    errors: list[str] = []
    with serve(build_runtime(web_settings, clock=clock)) as base, browser_page() as page:
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/static/overview.css")  # a page of the origin, for fetch and scripts
        page.set_content(
            '<html><head><link rel="stylesheet" href="/static/console.css">'
            '<link rel="stylesheet" href="/static/overview.css"></head>'
            '<body><main id="main"></main></body></html>'
        )
        for script in ("/static/vendor/chart.umd.min.js", "/static/overview.js"):
            page.add_script_tag(url=base + script)
        for lang in ("zh-CN", "en"):
            url = f"{base}/console/views/overview?lang={lang}"
            drawn[lang] = page.evaluate(DRAW, [url, secret])
            screenshot(page, f"overview-{lang}")
        # in the console: a supervisor lands on the overview, its charts drawn
        page.goto(base + "/#/overview")
        page.fill("#token", secret)
        page.press("#token", "Enter")
        page.wait_for_function(
            "() => window.Chart && ['ov-violations', 'ov-week'].every("
            "id => document.getElementById(id) && Chart.getChart(document.getElementById(id)))"
        )
    assert not errors, errors
    zh, en = drawn["zh-CN"], drawn["en"]
    assert [d["canvas"] for d in zh] == ["ov-violations", "ov-week"]
    assert zh[0]["labels"] == ["NO_MASK 未戴口罩", "PHONE 玩手机"]
    assert zh[0]["sets"] == [["今日违规", [2, 1]]]
    assert zh[1]["sets"] == [
        ["电梯告警", [0, 0, 0, 1, 0, 0, 4]],
        ["后厨告警", [0, 0, 0, 0, 0, 1, 3]],
    ]
    assert en[0]["labels"] == ["NO_MASK", "PHONE"] and en[0]["sets"] == [
        ["Violations today", [2, 1]]
    ]
    assert [s[0] for s in en[1]["sets"]] == ["Elevator alerts", "Kitchen alerts"]
