"""One hygiene score: the red/black lists, the public page and the console read the
same function (alerts.stats.queries.kitchen_score), so a kitchen scores the same
everywhere; the camera online rate divides by the time the camera was registered."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from brightwatch.alerts.stats.settings import StatsSettings
from brightwatch.api.web.hygiene import NO_DATA, grade, hygiene_record
from tests.stats.test_kitchen_stats import NOW, client  # noqa: F401


def test_black_list_and_public_page_agree(
    client: TestClient,  # noqa: F811
    make_token: Any,
    db_url: str,
) -> None:
    lists = client.get("/api/v1/stats/kitchen-lists", headers=make_token("supervisor")).json()
    listed = {k["site_id"]: k["hygiene_score"] for k in lists["black_list"] + lists["red_list"]}
    assert listed["K1"] is not None and listed["K3"] is None  # K3 never streamed: no data
    with psycopg.connect(db_url) as conn:
        for site, score in listed.items():
            record = hygiene_record(conn, site, NOW, StatsSettings())
            if score is None:  # no data: no score and no grade shown
                assert (record.score, record.grade, record.graded) == (NO_DATA, NO_DATA, False)
            else:
                assert record.score == score and record.grade == grade(score), site
    page = client.get("/public/kitchens/K1", params={"lang": "en"})
    assert page.status_code == 200
    shown = re.search(r'class="num">([0-9.]+)<', page.text)
    assert shown is not None and float(shown.group(1)) == listed["K1"]
    big = re.search(r'class="big">([^<]*)<', page.text)
    assert big is not None and big.group(1).strip() == grade(listed["K1"])


def test_online_rate_counts_from_the_camera_registration(
    client: TestClient,  # noqa: F811
    make_token: Any,
    db_url: str,
) -> None:
    # registered two hours before now, online since: 100 %, not 2 h / 30 days
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO site (site_id, kind, timezone) VALUES ('N1', 'kitchen', 'UTC')")
        conn.execute(
            "INSERT INTO camera (site_id, camera_id, created_at) VALUES ('N1', 'c1', %s)",
            (NOW - timedelta(hours=2),),
        )
        conn.execute(
            "INSERT INTO availability_log (device_kind, device_key, site_id, availability,"
            " received_at) VALUES ('camera', 'N1/c1', 'N1', 'online', %s)",
            (NOW - timedelta(hours=2),),
        )
    r = client.get(
        "/api/v1/stats/kitchens", params={"site_id": "N1"}, headers=make_token("supervisor")
    )
    assert r.status_code == 200, r.text
    (n1,) = r.json()["items"]
    assert abs(n1["expected_hours"] - 2.0) < 1e-6 and abs(n1["online_rate"] - 1.0) < 1e-6
    # two hours observed are below the default 8 h: no score yet, never a grade
    assert n1["hygiene_score"] is None and n1["graded"] is False


def test_a_closed_t3_case_is_not_listed_open(db_url: str) -> None:
    """The record counts open and closed by the case: T3 closes at confirmation (no
    notice) even while its alert still fires; a notified T2 case is open."""
    rows = [  # (code, tier, alert state, case state)
        ("NO_HAT", "T3", "firing", "closed"),
        ("NO_HAT", "T3", "resolved", "closed"),
        ("SMOKING", "T2", "resolved", "notified"),
        ("SMOKING", "T2", "firing", "rectifying"),
        ("SMOKING", "T2", "firing", "dismissed"),  # a false positive: not on the record
    ]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO site (site_id, kind) VALUES ('T1K', 'kitchen')")
        for i, (code, tier, alert_state, case_state) in enumerate(rows):
            alert_id = conn.execute(
                "INSERT INTO alert (kind, code, severity, state, device_id, site_id, fingerprint,"
                " started_at, updated_at, last_raised_at) VALUES ('kitchen', %s, %s, %s, 'c1',"
                " 'T1K', %s, %s, %s, %s) RETURNING id",
                (code, tier, alert_state, f"fp{i}", NOW - timedelta(days=1), NOW, NOW),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, code, tier, state,"
                " detected_at, created_at, updated_at, decision, decided_at)"
                " VALUES (%s, %s, 'T1K', 'c1', %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    alert_id,
                    f"fp{i}",
                    code,
                    tier,
                    case_state,
                    NOW - timedelta(days=1),
                    NOW,
                    NOW,
                    "dismiss" if case_state == "dismissed" else "confirm",
                    NOW,
                ),
            )
        record = hygiene_record(conn, "T1K", NOW, StatsSettings())
    want = {}
    for code, _, _, case_state in rows:
        if case_state == "dismissed":
            continue
        o, c = want.get(code, (0, 0))
        is_open = case_state in (
            "notified",
            "rectifying",
            "evidence_submitted",
            "verifying",
            "escalated",
        )
        want[code] = (o + is_open, c + (not is_open))
    assert {cat.code: (cat.open, cat.closed) for cat in record.categories} == want
    assert want["NO_HAT"] == (0, 2)
