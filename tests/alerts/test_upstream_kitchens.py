"""The kitchen export (format brightwatch.kitchens/1) on the kitchen statistics test's raw
rows: its coverage figures are the coverage endpoint's for the same window, its violations
and cases are the confirmed reviews detected in the window, and `upstream enqueue` queues
it in the outbox."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from brightwatch.alerts.stats.queries import Window
from brightwatch.alerts.stats.settings import StatsSettings
from brightwatch.alerts.upstream.exporters import EXPORTERS, ExportContext, build
from brightwatch.alerts.upstream.registry import platform
from brightwatch.contract.codes import KITCHEN_CATALOGUE
from tests.api.conftest import make_token  # noqa: F401
from tests.stats.test_kitchen_stats import NOW, REVIEWS, SINCE, UNTIL, D, H, client  # noqa: F401

CONTEXT = ExportContext(platform("gb2017"), StatsSettings())


def export(db_url: str) -> dict[str, Any]:
    with psycopg.connect(db_url) as conn:
        return build("kitchens", conn, CONTEXT, Window(SINCE, UNTIL, NOW))


def test_both_exporters_are_registered() -> None:
    assert sorted(EXPORTERS) == ["elevators", "kitchens"]


def test_coverage_matches_the_endpoint_for_the_same_window(
    client: TestClient,  # noqa: F811
    make_token: Any,  # noqa: F811
    db_url: str,
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE site SET kitchen_type = 'school_canteen' WHERE site_id = 'K3'")
    r = client.get(
        "/api/v1/stats/kitchens/coverage",
        params={"since": SINCE.isoformat(), "until": UNTIL.isoformat()},
        headers=make_token("supervisor"),
    )
    assert r.status_code == 200, r.text
    api = r.json()
    got = json.loads(json.dumps(export(db_url)))  # as the receiver reads it
    assert got["format"] == "brightwatch.kitchens/1"
    assert got["window"] == {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
    cov = got["coverage"]
    for key in ("registered", "covered", "coverage_rate", "by_type", "by_district"):
        assert cov[key] == api[key], key
    assert cov["min_online_rate"] == api["min_online_rate"]
    assert cov["by_type"]["school_canteen"]["registered"] == 1
    assert cov["registered"] == 5  # K1..K5; the building B1 is not a kitchen


def test_violations_and_cases_are_the_confirmed_reviews_of_the_window(
    client: TestClient,  # noqa: F811
    db_url: str,
) -> None:
    items = export(db_url)["items"]
    want = sorted(
        (r["site"], r["code"], r["tier"], r["detected"].isoformat())
        for r in REVIEWS
        if r["decision"] == "confirm" and SINCE <= r["detected"] < UNTIL
    )
    violations = [i for i in items if i["record"] == "violation"]
    cases = [i for i in items if i["record"] == "rectification"]
    assert sorted((v["site_id"], v["code"], v["tier"], v["started_at"]) for v in violations) == want
    assert sorted((c["site_id"], c["code"], c["tier"], c["detected_at"]) for c in cases) == want
    for v in violations:
        assert v["name_zh"] == KITCHEN_CATALOGUE[v["code"]].name_zh
        assert v["district"] and v["kitchen_type"] == "other"
    states = {(c["site_id"], c["code"]): (c["state"], c["closed"], c["card"]) for c in cases}
    assert states[("K2", "SMOKING")] == ("escalated", False, "red")
    assert states[("K1", "RODENT")] == ("closed", True, None)
    rodent = next(c for c in cases if c["code"] == "RODENT")
    assert rodent["closed_at"] == (SINCE + D + 61 * H).isoformat()
    assert rodent["fix_due_at"] == (SINCE + D + 73 * H).isoformat()
