"""Bright-kitchen coverage (GET /api/v1/stats/kitchens/coverage) against a recomputation
in plain Python from the raw rows of the kitchen statistics test (registry, availability
messages, CAMERA_OFFLINE alerts): registered, covered (streamed in the window with an
online rate of at least `coverage_min_online_rate`), per kitchen type and district."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from brightwatch.alerts.stats.settings import StatsSettings
from tests.stats.test_kitchen_stats import (  # noqa: F401
    SINCE,
    SITES,
    UNTIL,
    D,
    H,
    client,
    expected,
)

TYPES = {
    "K1": "restaurant",
    "K2": "delivery_only",
    "K3": "school_canteen",
    "K4": "school_canteen",
    "K5": None,  # not known: counted as other
}
ALL_TYPES = (
    "restaurant",
    "delivery_only",
    "school_canteen",
    "canteen",
    "central_kitchen",
    "other",
)


def rated(sites: list[str], covered: set[str]) -> dict[str, Any]:
    n, c = len(sites), len([s for s in sites if s in covered])
    return {"registered": n, "covered": c, "coverage_rate": c / n if n else None}


def coverage(api: TestClient, who: dict[str, str], **params: str) -> Any:
    r = api.get(
        "/api/v1/stats/kitchens/coverage",
        params={"since": SINCE.isoformat(), "until": UNTIL.isoformat(), **params},
        headers=who,
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_coverage_matches_an_independent_recomputation(
    client: TestClient,  # noqa: F811
    make_token: Any,
    db_url: str,
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for site, kitchen_type in TYPES.items():
            conn.execute(
                "UPDATE site SET kitchen_type = %s WHERE site_id = %s", (kitchen_type, site)
            )
        # K6: a delivery-only shop open round the clock (UTC) whose camera streamed for one
        # hour of the week: streaming, online rate 1/168, not covered
        conn.execute(
            "INSERT INTO site (site_id, kind, kitchen_type, district, timezone)"
            " VALUES ('K6', 'kitchen', 'delivery_only', 'Nanshan', 'UTC')"
        )
        conn.execute(
            "INSERT INTO camera (site_id, camera_id, created_at) VALUES ('K6', 'c1', %s)",
            (SINCE - 10 * D,),
        )
        for availability, at in (("online", SINCE + D), ("offline", SINCE + D + H)):
            conn.execute(
                "INSERT INTO availability_log (device_kind, device_key, site_id, availability,"
                " received_at) VALUES ('camera', 'K6/c1', 'K6', %s, %s)",
                (availability, at),
            )
    s = StatsSettings()
    per_site = {site: expected(site, s) for site in SITES}
    per_site["K6"] = {"district": "Nanshan", "streaming": True, "online_rate": 1 / (7 * 24)}
    types = {**TYPES, "K6": "delivery_only"}
    districts_of = {site: e["district"] for site, e in per_site.items()}
    covered = {
        site
        for site, e in per_site.items()
        if e["streaming"] and (e["online_rate"] or 0) >= s.coverage_min_online_rate
    }
    # the data exercise it: covered ones, one streaming below the share, never streamed
    assert covered and "K6" not in covered and not per_site["K3"]["streaming"]
    sup = make_token("supervisor")
    got = coverage(client, sup)
    assert {k: got[k] for k in ("registered", "covered", "coverage_rate")} == rated(
        list(per_site), covered
    )
    assert got["min_online_rate"] == s.coverage_min_online_rate
    for t in ALL_TYPES:
        members = [k for k, v in types.items() if (v or "other") == t]
        assert got["by_type"][t] == rated(members, covered), t
    assert got["by_district"] == [
        {"district": d, **rated([k for k, v in districts_of.items() if v == d], covered)}
        for d in sorted(set(districts_of.values()))
    ]
    for key in ("registered", "covered"):
        assert type(got[key]) is int
    # one district only
    nanshan = coverage(client, sup, district="Nanshan")
    assert nanshan["registered"] == 3 and nanshan["district"] == "Nanshan"
    assert [d["district"] for d in nanshan["by_district"]] == ["Nanshan"]
    # a kitchen's operator does not see the city's coverage
    op = make_token("operator", site_id="K1")
    r = client.get("/api/v1/stats/kitchens/coverage", headers=op)
    assert r.status_code in (403, 404), r.text
