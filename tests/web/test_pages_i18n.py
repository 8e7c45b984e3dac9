"""The elevator, kitchen and public pages in zh-CN and English (issue 14): every text a
person reads comes from the catalogue, times are shown in the right zone with the offset
(a kitchen's in its own zone), and the kitchen page shows pictures each caller can open
(the supervisor's live picture and real last frame, the operator's own evidence)."""

from __future__ import annotations

import html as htmllib
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.alerts.evidence import records
from brightwatch.contract.codes import ELEVATOR_CATALOGUE, KITCHEN_CATALOGUE
from brightwatch.i18n import show
from brightwatch.registry import store
from brightwatch.registry.models import CameraRecord, OpeningHours, SiteRecord
from brightwatch.settings import Settings
from brightwatch.vision.privacy import PrivacyUnavailable, find_face_model
from tests.web.conftest import put_snapshot

MakeToken = Callable[..., dict[str, str]]
LOCALES = ("zh-CN", "en")

# a violation at 18:14Z: 02:14 the next day in Shanghai, 18:14 the same day in London
AT_1814 = datetime(2026, 11, 19, 18, 14, tzinfo=UTC)
SHANGHAI_1814 = "2026-11-20 02:14 (+08:00)"
LONDON_1814 = "2026-11-19 18:14 (+00:00)"
# a camera whose stored frame is older than the freshness limit, and whose presence row
# (availability messages only) is older still
OLD_FRAME = datetime(2026, 11, 20, 3, 59, tzinfo=UTC)
OLD_FRAME_SHOWN = "2026-11-20 11:59:00 (+08:00)"
STALE_PRESENCE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

# ------------------------------------------------------------------ what counts as untranslated

# words a zh-CN page may show in Latin letters: catalogue codes, severities and tiers,
# the ids of this test's data, units and the letters of the planner's formula
ALLOWED = (
    set(ELEVATOR_CATALOGUE)
    | set(KITCHEN_CATALOGUE)
    | {"P1", "P2", "P3", "INFO", "T1", "T2", "T3", "UTC"}
    | {"EA1", "EA2", "EC1", "FA", "FC", "B1", "KZ1", "KL1", "hot", "prep", "cold"}
    | {"s", "h", "m", "R", "x", "z", "p", "σ"}
    | {"English"}  # the language menu names each language in itself
)
# IANA zone names (the `title` of each shown time): identifiers, like URLs
ZONE = re.compile(r"\b[A-Z][a-z]+/[A-Za-z_]+\b")
# names and addresses registered by this test's data (data, not interface text)
DATA = ("EA1 Tower Road", "EA2 Tower Road", "EC1 Tower Road", "Firm A", "Firm C", "Tower")
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
CJK = re.compile(r"[\u4e00-\u9fff]")
TEXT_ATTRS = re.compile(r'\b(?:title|alt|placeholder|aria-label)="([^"]*)"')


def visible_text(page: str) -> str:
    """What a reader sees or hears of a page: text nodes and the attributes shown as text
    (title, alt, placeholder, aria-label); no scripts, no styles, no markup."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    attrs = " ".join(TEXT_ATTRS.findall(body))
    text = re.sub(r"<[^>]+>", " ", body) + " " + attrs
    text = htmllib.unescape(text)
    for value in DATA:
        text = text.replace(value, " ")
    return re.sub(r"\s+", " ", text)


def untranslated(page: str) -> list[str]:
    """Latin-letter words of a zh-CN page that are not on the allowlist."""
    words = LATIN.findall(ZONE.sub(" ", visible_text(page)))
    return sorted({w for w in words if w not in ALLOWED and not re.fullmatch(r"[A-D]", w)})


def test_the_checker_flags_an_english_word() -> None:
    page = '<p title="未读">电梯 EA1 <code>TRAPPED_OUT_ZONE</code> Elevator</p><script>var x = "no"</script>'
    assert untranslated(page) == ["Elevator"]
    assert untranslated('<img alt="picture">') == ["picture"]
    assert untranslated('<time title="Asia/Shanghai">02:14 (+08:00)</time>') == []
    assert untranslated("<p>电梯 EA1 Tower Road · 2026-11-20 02:14 (+08:00)</p>") == []


# ------------------------------------------------------------------ the city


def _kitchen(conn: psycopg.Connection, site_id: str, timezone: str) -> None:
    store.upsert_site(
        conn,
        site_id,
        SiteRecord(
            name="阳光食堂" if site_id == "KZ1" else "伦敦小馆",
            operator="阳光餐饮有限公司",
            address="市场街 1 号",
            district="福田区",
            timezone=timezone,
            operating_hours=[OpeningHours(days="daily", open="00:00", close="24:00")],
        ),
    )
    store.upsert_camera(conn, site_id, "hot", CameraRecord(work_area="cooking", is_public=True))
    store.upsert_camera(conn, site_id, "prep", CameraRecord(work_area="cutting", is_public=True))
    store.upsert_camera(conn, site_id, "cold", CameraRecord(work_area="storage", is_public=False))


def _violation(
    conn: psycopg.Connection, site_id: str, code: str, at: datetime, case_state: str
) -> int:
    """A kitchen alert on camera `hot` and its review case in `case_state`."""
    row = conn.execute(
        "INSERT INTO alert (kind, code, severity, state, device_id, site_id, fingerprint,"
        " started_at, updated_at, last_raised_at, summary)"
        " VALUES ('kitchen', %s, 'T2', 'firing', 'hot', %s, %s, %s, %s, %s, 'Chef Wang')"
        " RETURNING id, fingerprint",
        (code, site_id, f"{site_id}-{code}-{at}", at, at, at),
    ).fetchone()
    assert row is not None
    confirmed = case_state != "pending_review"
    conn.execute(
        "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, code, tier, state,"
        " detected_at, created_at, updated_at, decision, decided_at, plan_due_at, fix_due_at,"
        " card) VALUES (%s, %s, %s, 'hot', %s, 'T2', %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            row[0],
            row[1],
            site_id,
            code,
            case_state,
            at,
            at,
            at,
            "confirm" if confirmed else None,
            at if confirmed else None,
            at + timedelta(days=1) if confirmed else None,
            at + timedelta(days=3) if confirmed else None,
            "yellow" if confirmed else None,
        ),
    )
    return int(row[0])


def _evidence(conn: psycopg.Connection, data_dir: Path, alert_id: int, at: datetime) -> int:
    image = np.full((90, 160, 3), (alert_id * 37) % 255, np.uint8)
    jpeg = cv2.imencode(".jpg", image)[1].tobytes()
    return records.save(
        conn,
        data_dir,
        site_id="KZ1",
        camera_id="hot",
        ts_ms=int(at.timestamp() * 1000),
        jpeg=jpeg,
        width=160,
        height=90,
        code="NO_MASK",
        boxes=[{"label": "face", "box": [10, 10, 40, 40], "score": 0.9}],
        model="test@1",
        zone=None,
        rule="test",
        alert_id=alert_id,
    ).id


def setup_kitchens(db_url: str, data_dir: Path) -> dict[str, int]:
    """Two kitchens (Shanghai and London time) with a confirmed NO_MASK at 18:14Z each;
    in KZ1 a newer SMOKING still pending review, and evidence of both cases (the pending
    one newer); camera `hot` streams now, `prep` stopped after OLD_FRAME, `cold` never
    streamed."""
    with psycopg.connect(db_url) as conn:
        _kitchen(conn, "KZ1", "Asia/Shanghai")
        _kitchen(conn, "KL1", "Europe/London")
        confirmed = _violation(conn, "KZ1", "NO_MASK", AT_1814, "rectifying")
        _violation(conn, "KL1", "NO_MASK", AT_1814, "rectifying")
        pending = _violation(conn, "KZ1", "SMOKING", AT_1814 + timedelta(hours=1), "pending_review")
        ids = {
            "confirmed": _evidence(conn, data_dir, confirmed, AT_1814),
            "pending": _evidence(conn, data_dir, pending, AT_1814 + timedelta(hours=1)),
        }
        for cam in ("hot", "prep"):
            conn.execute(
                "INSERT INTO device_presence (device_kind, device_key, device_id, site_id,"
                " availability, availability_at, last_seen)"
                " VALUES ('camera', %s, %s, 'KZ1', 'online', %s, %s)",
                (f"KZ1/{cam}", cam, STALE_PRESENCE, STALE_PRESENCE),
            )
    frame = cv2.imencode(".jpg", np.full((90, 160, 3), 128, np.uint8))[1].tobytes()
    put_snapshot(data_dir, "KZ1", "hot", frame)
    old = put_snapshot(data_dir, "KZ1", "prep", frame)
    os.utime(old, (OLD_FRAME.timestamp(), OLD_FRAME.timestamp()))
    return ids


def setup_elevators(settings: Settings) -> None:
    """Elevators with a computed maintenance plan, status samples and faults."""
    from tests.api.test_maintenance_plan import compute_plans

    compute_plans(settings)


def _get(client: TestClient, path: str, locale: str, headers: dict[str, str] | None = None) -> str:
    r = client.get(path, params={"lang": locale}, headers=headers or {})
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.text


# ------------------------------------------------------------------ language


def test_elevator_pages_speak_the_readers_language(
    web_client: TestClient, web_settings: Settings, make_token: MakeToken
) -> None:
    setup_elevators(web_settings)
    sup = make_token("supervisor")
    for path in ("/console/views/elevators", "/console/views/elevators/EA1"):
        zh = _get(web_client, path, "zh-CN", sup)
        assert untranslated(zh) == [], path
        en = _get(web_client, path, "en", sup)
        assert not CJK.search(visible_text(en)), (path, CJK.findall(visible_text(en))[:10])
    zh = _get(web_client, "/console/views/elevators/EA1", "zh-CN", sup)
    en = _get(web_client, "/console/views/elevators/EA1", "en", sup)
    # the plan is explained in both: factors, eligibility checks, why this interval
    assert "维保计划" in zh and "梯龄" in zh and "维保单位信用等级" in zh and "在线" in zh
    assert "Maintenance plan" in en and "firm credit rating" in en and "age" in en
    # the timeline's axis and tooltips in local time, with the offset
    assert re.search(
        r'<div class="timeline-axis"><span><time [^>]*>\d\d-\d\d \d\d:\d\d \(\+08:00\)', zh
    )
    # a firm sees its own elevator in its language too; another firm's is not found
    firm = make_token("firm", firm_id="FA")
    assert untranslated(_get(web_client, "/console/views/elevators/EA1", "zh-CN", firm)) == []
    r = web_client.get("/console/views/elevators/EC1", headers=firm)
    assert r.status_code == 404


def test_kitchen_pages_speak_the_readers_language(
    web_client: TestClient, db_url: str, web_settings: Settings, make_token: MakeToken
) -> None:
    setup_kitchens(db_url, web_settings.data_dir)
    for who in (make_token("supervisor"), make_token("operator", site_id="KZ1")):
        for path in ("/console/views/kitchens", "/console/views/kitchens/KZ1"):
            zh = _get(web_client, path, "zh-CN", who)
            assert untranslated(zh) == [], path
            en = _get(web_client, path, "en", who)
            text = visible_text(en)
            for data in ("阳光食堂", "阳光餐饮有限公司", "市场街 1 号", "福田区", "伦敦小馆"):
                text = text.replace(data, " ")
            assert not CJK.search(text), (path, CJK.findall(text)[:10])
    zh = _get(web_client, "/console/views/kitchens/KZ1", "zh-CN", make_token("supervisor"))
    # codes verbatim beside their Chinese names; states and cards in words
    assert "<code>NO_MASK</code>" in zh and "未戴口罩" in zh and "整改中" in zh and "黄牌" in zh
    en = _get(web_client, "/console/views/kitchens/KZ1", "en", make_token("supervisor"))
    assert "<code>NO_MASK</code>" in en and "未戴口罩" not in en and "rectifying" in en


def test_public_page_in_each_language(
    web_client: TestClient, db_url: str, web_settings: Settings
) -> None:
    setup_kitchens(db_url, web_settings.data_dir)
    zh = web_client.get("/public/kitchens/KZ1")  # BW_LOCALE's default: zh-CN
    assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text
    assert untranslated(zh.text) == []
    assert "卫生评分" in zh.text and 'href="?lang=en"' in zh.text
    assert "Cookie" in zh.headers.get("vary", "")
    en = web_client.get("/public/kitchens/KZ1", params={"lang": "en"})
    assert '<html lang="en">' in en.text and "Hygiene score" in en.text
    assert 'href="?lang=zh-CN"' in en.text and "卫生评分" not in en.text
    text = visible_text(en.text)
    for data in ("阳光食堂", "市场街 1 号", "福田区", "中文"):
        text = text.replace(data, " ")
    assert not CJK.search(text), CJK.findall(text)[:10]
    # the language menu's cookie is the reader's choice on the public page too
    web_client.cookies.set("bw_lang", "en")
    try:
        assert "Hygiene score" in web_client.get("/public/kitchens/KZ1").text
    finally:
        web_client.cookies.clear()


# ------------------------------------------------------------------ time zones


def test_kitchen_times_are_in_the_sites_zone(
    web_client: TestClient, db_url: str, web_settings: Settings, make_token: MakeToken
) -> None:
    setup_kitchens(db_url, web_settings.data_dir)
    sup = make_token("supervisor")
    shanghai = _get(web_client, "/console/views/kitchens/KZ1", "zh-CN", sup)
    london = _get(web_client, "/console/views/kitchens/KL1", "zh-CN", sup)
    assert SHANGHAI_1814 in shanghai and LONDON_1814 not in shanghai
    assert LONDON_1814 in london and SHANGHAI_1814 not in london
    assert 'datetime="2026-11-20T02:14:00+08:00"' in shanghai
    # the public page: opening hours with the site's offset, times in its zone
    assert "（UTC+08:00）" in web_client.get("/public/kitchens/KZ1").text
    london_public = web_client.get("/public/kitchens/KL1", params={"lang": "en"}).text
    assert "daily 00:00–24:00 (UTC+00:00)" in london_public
    assert "11-19 18:14 (+00:00)" in london_public  # the record's latest violation


# ------------------------------------------------------------------ the two fixes


def test_operator_sees_its_own_evidence_picture(
    web_client: TestClient, db_url: str, web_settings: Settings, make_token: MakeToken
) -> None:
    ids = setup_kitchens(db_url, web_settings.data_dir)
    op = make_token("operator", site_id="KZ1")
    page = _get(web_client, "/console/views/kitchens/KZ1", "zh-CN", op)
    urls = re.findall(r'data-src="(/api/v1/evidence/[^"]+)"', page)
    # the newest evidence is of a case still pending review, which the operator may not
    # open (404: the broken image): the page points at the newest one it may open
    assert urls == [f"/api/v1/evidence/{ids['confirmed']}.jpg?annotated=1"]
    r = web_client.get(urls[0], headers=op)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8"
    assert web_client.get(f"/api/v1/evidence/{ids['pending']}.jpg", headers=op).status_code == 404
    # the supervisor sees every case: the newest picture
    sup_page = _get(web_client, "/console/views/kitchens/KZ1", "zh-CN", make_token("supervisor"))
    assert f"/api/v1/evidence/{ids['pending']}.jpg" in sup_page
    # a picture whose file is gone is not offered: the next one the caller may open is
    with psycopg.connect(db_url) as conn:
        rel = conn.execute("SELECT path FROM evidence WHERE id = %s", (ids["pending"],)).fetchone()
    assert rel is not None
    (web_settings.data_dir / rel[0]).unlink()
    sup_page = _get(web_client, "/console/views/kitchens/KZ1", "zh-CN", make_token("supervisor"))
    assert f"/api/v1/evidence/{ids['confirmed']}.jpg" in sup_page
    assert f"/api/v1/evidence/{ids['pending']}.jpg" not in sup_page


def _row(page: str, camera: str) -> str:
    m = re.search(rf'<tr data-camera="{camera}">(.*?)</tr>', page, re.S)
    assert m, camera
    return m.group(1)


def test_kitchen_page_shows_the_real_last_frame(
    web_client: TestClient, db_url: str, web_settings: Settings, make_token: MakeToken
) -> None:
    setup_kitchens(db_url, web_settings.data_dir)
    page = _get(web_client, "/console/views/kitchens/KZ1", "zh-CN", make_token("supervisor"))
    # `prep`: its stored frame's time, not the presence row's (availability messages only)
    prep = _row(page, "prep")
    assert OLD_FRAME_SHOWN in prep and "2026-11-01" not in prep and "近期无画面" in prep
    # `hot`: the frame written just now
    hot = _row(page, "hot")
    written = (web_settings.data_dir / "snapshots" / "KZ1" / "hot.jpg").stat().st_mtime
    assert show(datetime.fromtimestamp(written, UTC), "Asia/Shanghai") in hot
    assert "2026-11-01" not in hot
    # `cold` never sent a frame nor a message
    assert "从未推流" in _row(page, "cold") and "暂无画面" in _row(page, "cold")


def test_kitchen_page_shows_a_live_picture(
    web_client: TestClient, db_url: str, web_settings: Settings, make_token: MakeToken
) -> None:
    try:
        find_face_model()
    except PrivacyUnavailable as exc:
        pytest.skip(f"{exc}")
    setup_kitchens(db_url, web_settings.data_dir)
    sup = make_token("supervisor")
    page = _get(web_client, "/console/views/kitchens/KZ1", "zh-CN", sup)
    url = "/console/views/kitchens/KZ1/cameras/hot/picture.jpg"
    assert f'data-src="{url}"' in _row(page, "hot")
    started = time.monotonic()
    r = web_client.get(url, headers=sup)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", r.text[:200]
    assert time.monotonic() - started < 60
    op = make_token("operator", site_id="KZ1")
    assert web_client.get(url, headers=op).status_code == 200  # the operator's own kitchen
    other = make_token("operator", site_id="KL1")
    assert web_client.get(url, headers=other).status_code == 404
    # no recent frame, an unknown camera: not found (the page says so instead)
    assert web_client.get(url.replace("hot", "prep"), headers=sup).status_code == 404
    assert web_client.get(url.replace("hot", "nope"), headers=sup).status_code == 404
    assert web_client.get(url).status_code == 401


def test_pictures_say_why_not_without_the_face_filter(
    web_client: TestClient,
    db_url: str,
    web_settings: Settings,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No face model (the lean demo before `models install`): the pages say so, in words,
    and nothing unfiltered is served."""
    import brightwatch.api.web.pictures as pictures_module

    def missing(*args: object, **kwargs: object) -> None:
        raise PrivacyUnavailable("face model not installed")

    monkeypatch.setattr(pictures_module, "default_filter", missing)
    setup_kitchens(db_url, web_settings.data_dir)
    sup = make_token("supervisor")
    page = _get(web_client, "/console/views/kitchens/KZ1", "zh-CN", sup)
    assert "未安装人脸模糊处理模型" in _row(page, "hot") and "picture.jpg" not in page
    r = web_client.get("/console/views/kitchens/KZ1/cameras/hot/picture.jpg", headers=sup)
    assert r.status_code == 503
    public = web_client.get("/public/kitchens/KZ1").text
    assert 'id="no-filter"' in public and "snapshot.jpg" not in public
