"""The console, the firm portal and the public page in a real headless Chromium against
a real server, database and broker: sign in, review ten items with the keyboard only,
acknowledge an alert (live list), a firm accepts and completes a ticket. Screenshots go
to test-artefacts/screenshots/ (or $BW_TEST_ARTEFACTS). The console speaks its default
language, zh-CN, here; selectors use the values (`data-state`), not the words."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import psycopg
import pytest
from psycopg.types.json import Jsonb

from brightwatch.alerts.model import AlertSignal
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.support.waiting import wait_until
from tests.web.browser import ARTIFACTS, browser_page, screenshot, serve
from tests.web.conftest import put_snapshot, register_kitchen
from tests.web.test_console import setup_city

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def token(db_url: str, role: str, **scope: str) -> str:
    from brightwatch.api.auth import create_token

    with psycopg.connect(db_url) as conn:
        return create_token(conn, role, scope.get("firm_id"), scope.get("site_id"))[1]


def sign_in(page: Any, base: str, secret: str) -> None:
    page.goto(base + "/")
    page.fill("#token", secret)
    page.press("#token", "Enter")
    page.wait_for_selector("#nav:not([hidden])")


def signal(settings: Settings, **kw: Any) -> int:
    runtime = build_runtime(settings)
    with psycopg.connect(settings.database_url.get_secret_value()) as conn, conn.transaction():
        change = runtime.alert_store.apply_signal(
            conn, AlertSignal(at=datetime.now(UTC), active=True, **kw)
        )
    assert change is not None
    return change.alert.id


def alert_state(db_url: str, alert_id: int) -> str:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT state FROM alert WHERE id = %s", (alert_id,)).fetchone()
    return str(row[0]) if row else ""


def test_sign_in_and_acknowledge_an_alert_live(settings: Settings, db_url: str) -> None:
    setup_city(db_url)
    first = signal(
        settings,
        kind="elevator",
        code="TRAPPED_OUT_ZONE",
        severity="P1",
        device_id="EA1",
        summary="stopped between floors 3 and 4, person inside",
    )
    secret = token(db_url, "supervisor")
    with serve(build_runtime(settings)) as base, browser_page() as page:
        page.goto(base + "/")
        page.fill("#token", "bw_wrong_token_value")
        page.press("#token", "Enter")
        page.wait_for_selector("#signin-error:has-text('访问令牌无效')")
        # a notification's link to the alert's page: signing in lands there
        page.goto(f"{base}/#/alerts/{first}")
        page.fill("#token", secret)
        page.press("#token", "Enter")
        page.wait_for_selector(f'[data-view="alert"][data-alert="{first}"]')
        page.goto(base + "/#/alerts")
        page.wait_for_selector(f'tr[data-alert="{first}"]')
        page.wait_for_selector("#live.on")  # the live stream is connected
        # a new alert appears without reloading the page
        second = signal(
            settings,
            kind="elevator",
            code="OVERSPEED",
            severity="P2",
            device_id="EA1",
            summary="1.2 x rated speed",
        )
        page.wait_for_selector(f'tr[data-alert="{second}"]', timeout=15_000)
        page.click(f'tr[data-alert="{first}"] button[data-action="ack"]')
        wait_until(lambda: alert_state(db_url, first) == "acknowledged", 10, what="ack stored")
        page.wait_for_selector(f'tr[data-alert="{first}"] td.state[data-state="acknowledged"]')
        screenshot(page, "console-alerts")
        # the second alert's own page: silenced there, the silence shows with its end, and
        # ends there
        page.click(f'tr[data-alert="{second}"] a[href="#/alerts/{second}"]')
        page.wait_for_selector(f'[data-view="alert"][data-alert="{second}"] #alert-history')
        page.click('[data-view="alert"] button[data-action="silence"]')
        page.wait_for_selector('[data-view="alert"] p.silence button[data-action="unsilence"]')
        muted = page.inner_text('[data-view="alert"] p.silence')
        assert "在控制台静默" in muted and "(+08:00)" in muted
        page.click('[data-view="alert"] p.silence button[data-action="unsilence"]')
        page.wait_for_selector('[data-view="alert"] p.silence', state="detached")
        assert page.locator('#alert-history tr[data-action="silenced"]').count() == 1
        page.fill('[data-view="alert"] form[data-note] textarea', "已联系维保单位")
        page.click('[data-view="alert"] form[data-note] button[type="submit"]')
        page.wait_for_selector('#alert-history tr[data-action="noted"]')
        assert "已联系维保单位" in page.inner_text('#alert-history tr[data-action="noted"]')
        # and it follows the alert live: resolved elsewhere, it says so, in Chinese
        done = httpx.post(
            f"{base}/api/v1/alerts/{second}/resolve",
            json={"note": "resolved in the console"},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert done.status_code == 200, done.text
        page.wait_for_selector('#alert-history tr[data-action="resolved"]', timeout=15_000)
        resolved = page.inner_text('#alert-history tr[data-action="resolved"]')
        assert "在控制台解除" in resolved and "已解除" in resolved
        # a note half written there survives what happens meanwhile elsewhere
        page.fill('[data-view="alert"] form[data-note] textarea', "草稿")
        elsewhere = httpx.post(
            f"{base}/api/v1/alerts/{second}/notes",
            json={"note": "from another desk"},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert elsewhere.status_code == 201, elsewhere.text
        page.wait_for_timeout(2000)  # the live stream's event has come by now
        assert page.input_value('[data-view="alert"] form[data-note] textarea') == "草稿"
        # the token lives in this tab only
        assert page.evaluate("sessionStorage.getItem('bw_token')") == secret
        assert page.evaluate("localStorage.length") == 0


def _jpeg(seed: int) -> bytes:
    """A stand-in frame: a head-sized patch where the evidence box says it is."""
    image = np.full((360, 640, 3), 200, np.uint8)
    cv2.rectangle(image, (100, 60), (220, 180), (40 + 15 * seed % 200, 90, 160), -1)
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_review_ten_items_with_the_keyboard_only(settings: Settings, db_url: str) -> None:
    register_kitchen(db_url)
    ids = []
    for i in range(11):
        alert_id = signal(
            settings,
            kind="kitchen",
            code="NO_MASK",
            severity="T3",
            device_id=f"cam{i}",
            site_id="K1",
            summary="no mask at the cutting board",
            labels={"site_id": "K1", "camera_id": f"cam{i}", "district": "Futian"},
            source="vision",
        )
        data = _jpeg(i)
        rel = Path("evidence") / "K1" / f"cam{i}" / f"{alert_id}.jpg"
        (settings.data_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / rel).write_bytes(data)
        with psycopg.connect(db_url) as conn:
            conn.execute(
                "INSERT INTO evidence (site_id, camera_id, alert_id, captured_at, path, sha256, size_bytes,"
                " width, height, code, boxes, model, zone, rule) VALUES ('K1', %s, %s, now(), %s, %s, %s,"
                " 640, 360, 'NO_MASK', %s, 'kitchen-yolo@1', 'prep', 'NO_MASK: 3 of 5 frames, 3 s')",
                (
                    f"cam{i}",
                    alert_id,
                    rel.as_posix(),
                    hashlib.sha256(data).hexdigest(),
                    len(data),
                    Jsonb([{"label": "without_mask", "score": 0.9, "box": [100, 60, 220, 180]}]),
                ),
            )
        ids.append(alert_id)
    with psycopg.connect(db_url) as conn:
        pending = conn.execute(
            "SELECT count(*) FROM review WHERE state = 'pending_review'"
        ).fetchone()
    assert pending and pending[0] == 11, "the review reactor did not queue the flags"
    with serve(build_runtime(settings)) as base, browser_page() as page:
        sign_in(page, base, token(db_url, "supervisor"))
        page.goto(base + "/#/review")
        page.wait_for_selector("#rv-item:not([hidden])")
        # the evidence picture with its boxes, fetched with the token
        page.wait_for_function("document.getElementById('rv-img').naturalWidth > 0")
        # the item links to its alert's page (the oldest first)
        assert page.get_attribute("#rv-alert", "href") == f"#/alerts/{ids[0]}"
        screenshot(page, "review-queue")
        keys = ["c", "d"] * 5
        for n, key in enumerate(keys, start=1):
            shown = page.get_attribute("#rv-img", "data-review")
            page.keyboard.press(key)
            page.wait_for_selector(f"#rv-count:text-is('{n}')")
            page.wait_for_function(  # the next one is up
                "shown => document.getElementById('rv-img').dataset.review !== shown", arg=shown
            )
        assert float(page.text_content("#rv-median") or "nan") >= 0
    with psycopg.connect(db_url) as conn:
        decided = conn.execute(
            "SELECT decision, count(*) FROM review WHERE decision IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
        timed = conn.execute(
            "SELECT count(*) FROM review WHERE decision_seconds IS NOT NULL"
        ).fetchone()
    assert dict(decided) == {"confirm": 5, "dismiss": 5}
    assert timed and timed[0] == 10


def test_firm_accepts_and_completes_a_ticket(
    settings: Settings, db_url: str, tmp_path: Path
) -> None:
    setup_city(db_url)
    signal(
        settings,
        kind="elevator",
        code="TRAPPED_OUT_ZONE",
        severity="P1",
        device_id="EA1",
        summary="stopped between floors, person inside",
    )
    with psycopg.connect(db_url) as conn:
        found = conn.execute("SELECT id, state FROM ticket WHERE elevator_id = 'EA1'").fetchone()
    assert found, "the ticket reactor opened no rescue ticket"
    ticket_id = found[0]
    if found[1] == "created":
        with psycopg.connect(db_url) as conn:
            wait_until(
                lambda: (
                    conn.execute("SELECT state FROM ticket WHERE id = %s", (ticket_id,)).fetchone()[
                        0
                    ]
                    != "created"
                ),
                10,
            )
    photo = tmp_path / "released.jpg"
    photo.write_bytes(_jpeg(99))
    with serve(build_runtime(settings)) as base, browser_page() as page:
        sign_in(page, base, token(db_url, "firm", firm_id="FA"))
        page.wait_for_selector(f'tr[data-ticket="{ticket_id}"]')
        page.click(f'tr[data-ticket="{ticket_id}"] button[data-to="accepted"]')
        page.wait_for_selector(f'tr[data-ticket="{ticket_id}"] td.state[data-state="accepted"]')
        # the rest from the ticket's own page, reached from the list
        page.click(f'tr[data-ticket="{ticket_id}"] a[href="#/tickets/{ticket_id}"]')
        ticket_page = f'[data-view="ticket"][data-ticket="{ticket_id}"]'
        page.wait_for_selector(f'{ticket_page} dd.state[data-state="accepted"]')
        page.click(f'{ticket_page} button[data-to="arrived"]')
        page.wait_for_selector(f'{ticket_page} dd.state[data-state="arrived"]')
        page.click(f'{ticket_page} button[data-action="complete"]')
        # completion results are offered as results, in the reader's words
        assert (
            page.inner_text('#complete-result option[value="released_in_service"]')
            == "已解困，恢复运行"
        )
        page.select_option("#complete-result", "released_in_service")
        page.fill("#complete-note", "passenger released at 14:05, car back in service")
        page.set_input_files("#complete-photos", str(photo))
        screenshot(page, "firm-portal-complete")
        page.click("#complete-submit")
        page.wait_for_selector(f'{ticket_page} dd.state[data-state="completed"]')
        # the page now holds the whole visit: who did each step, the note, the photo
        page.wait_for_function(
            "document.querySelector('[data-view=ticket] .evidence-item img')?.naturalWidth > 0"
        )
        completed = page.inner_text(f'{ticket_page} tr[data-action="completed"]')
        assert "passenger released at 14:05" in completed and "维保单位 FA" in completed
        assert "完工照片" in page.inner_text(f"{ticket_page} .evidence-strip")
        with page.expect_download() as saved:  # the file itself, fetched with the token
            page.click(f'{ticket_page} button[data-action="download"]')
        assert saved.value.suggested_filename == "released.jpg"
        assert Path(saved.value.path()).read_bytes() == photo.read_bytes()
        assert page.locator(f'{ticket_page} tr[data-action="accepted"]').count() == 1
        screenshot(page, "firm-portal-ticket")
        page.goto(base + "/#/tickets")
        page.wait_for_selector('[data-view="tickets"]')
        assert page.locator(f'tr[data-ticket="{ticket_id}"]').count() == 0  # left "open"
        page.goto(base + "/#/tickets?state=all")
        page.wait_for_selector(f'tr[data-ticket="{ticket_id}"] td.state[data-state="completed"]')
        screenshot(page, "firm-portal")
    with psycopg.connect(db_url) as conn:
        state, notes = conn.execute(
            "SELECT state, notes FROM ticket WHERE id = %s", (ticket_id,)
        ).fetchone()
        files = conn.execute(
            "SELECT count(*) FROM ticket_attachment WHERE ticket_id = %s", (ticket_id,)
        ).fetchone()
    assert state == "completed" and "released" in (notes or "")
    assert files and files[0] == 1


def test_firm_portal_shows_only_the_firm(settings: Settings, db_url: str) -> None:
    setup_city(db_url)
    with serve(build_runtime(settings)) as base, browser_page() as page:
        sign_in(page, base, token(db_url, "firm", firm_id="FA"))
        assert page.is_hidden('#nav a[href="#/review"]') and page.is_hidden(
            '#nav a[href="#/kitchens"]'
        )
        page.goto(base + "/#/elevators")
        page.wait_for_selector("text=EA1")
        assert page.locator("text=EB1").count() == 0
        page.goto(base + "/#/calendar")
        page.wait_for_selector('[data-view="calendar"]')
        screenshot(page, "firm-portal-calendar")
        page.goto(base + "/#/elevators/EB1")  # another firm's elevator
        page.wait_for_selector('[data-view="not-found"] h1:text-is("未找到")')


def test_kitchen_page_live_picture_waits_in_grey_then_shows(
    settings: Settings, db_url: str
) -> None:
    """The console's live picture of a camera is fetched with the token through the face
    filter, which may take seconds: meanwhile the cell shows a grey frame (not alt text
    and a broken-image icon), then the picture."""
    from brightwatch.vision.privacy import PrivacyUnavailable, find_face_model
    from tests.web.test_pages_i18n import setup_kitchens

    try:
        find_face_model()
    except PrivacyUnavailable as exc:
        pytest.skip(f"{exc}")
    setup_kitchens(db_url, settings.data_dir)
    held: list[Any] = []
    with serve(build_runtime(settings)) as base, browser_page() as page:
        sign_in(page, base, token(db_url, "supervisor"))
        page.route("**/picture.jpg", lambda route: held.append(route))  # the filter at work
        page.goto(base + "/#/kitchens/KZ1")
        for _ in range(200):  # route handlers run while Playwright waits
            if held:
                break
            page.wait_for_timeout(100)
        assert held, "the page never asked for the live picture"
        picture = page.locator('tr[data-camera="hot"] td.picture img.thumb')
        assert picture.evaluate("i => getComputedStyle(i).visibility") == "hidden"
        cell = page.locator('tr[data-camera="hot"] td.picture')
        assert "gradient" in cell.evaluate("c => getComputedStyle(c).backgroundImage")
        for route in held:
            route.continue_()
        page.wait_for_function(
            "document.querySelector('tr[data-camera=\"hot\"] td.picture img')?.naturalWidth > 0",
            timeout=60_000,
        )
        assert picture.evaluate("i => getComputedStyle(i).visibility") == "visible"
        assert cell.evaluate("c => getComputedStyle(c).backgroundImage") == "none"


def test_public_page_on_a_phone(settings: Settings, db_url: str) -> None:
    from tests.conftest import shared_path

    register_kitchen(db_url)
    kitchen = sorted((shared_path("media") / "kitchen").glob("*"))[0]
    put_snapshot(settings.data_dir, "K1", "hot", kitchen.read_bytes())
    # serve in the kitchen's opening hours, whatever the time of the test run
    s = settings.model_copy()
    with psycopg.connect(db_url) as conn:
        conn.execute(
            'UPDATE site SET operating_hours = \'[{"days": "daily", "open": "00:00", "close": "24:00"}]\' WHERE site_id = \'K1\''
        )
    with serve(build_runtime(s)) as base, browser_page({"width": 390, "height": 844}) as page:
        page.goto(base + "/public/kitchens/K1/cameras/hot/snapshot.jpg")  # warm the picture cache
        t0 = time.perf_counter()
        page.goto(base + "/public/kitchens/K1", wait_until="load")
        load_s = time.perf_counter() - t0
        page.wait_for_function("document.querySelector('img[data-live]').naturalWidth > 0")
        timing = page.evaluate(
            "JSON.stringify(performance.getEntriesByType('navigation')[0].toJSON())"
        )
        assert page.locator("text=Sunny Canteen").count() == 1
        assert page.locator("text=卫生记录").count() == 1
        # a kitchen observed too little has no grade: its badge is neutral, not A's green
        assert page.locator("#no-grade").count() == 1
        badge = page.evaluate(
            "getComputedStyle(document.querySelector('.score .big')).backgroundColor"
        )
        assert badge == "rgb(107, 114, 128)", badge
        screenshot(page, "public-kitchen")
        failed: list[str] = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.reload()
        assert not failed and all(u.startswith(base) for u in failed)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "public-page-timing.json").write_text(
        json.dumps({"load_s": round(load_s, 3), "navigation": json.loads(timing)}, indent=2)
    )
