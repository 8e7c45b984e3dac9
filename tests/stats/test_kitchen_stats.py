"""Kitchen statistics: the API's figures (computed in SQL) against an independent
recomputation in Python from the same raw rows: registry, availability messages,
CAMERA_OFFLINE alerts, reviews and card events."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from brightwatch.alerts.stats.queries import rollup_camera_hours
from brightwatch.alerts.stats.settings import StatsSettings
from brightwatch.api.app import create_app
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.alerts.notify_support import Clock

SERIAL = itertools.count()
SINCE = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
UNTIL = SINCE + timedelta(days=7)
NOW = UNTIL + timedelta(days=5)
H = timedelta(hours=1)
D = timedelta(days=1)

SITES = {
    # site: (district, timezone, operating hours, cameras)
    "K1": (
        "Futian",
        "Asia/Shanghai",
        [
            {"days": "mon-fri", "open": "08:00", "close": "20:00"},
            {"days": "sat,sun", "open": "10:00", "close": "02:00"},  # past midnight
        ],
        ["c1", "c2"],
    ),
    "K2": ("Futian", "UTC", [], ["c1"]),  # no hours: open around the clock
    "K3": (
        "Nanshan",
        "Asia/Shanghai",
        [{"days": "daily", "open": "06:00", "close": "22:00"}],
        ["c1", "c2"],
    ),
    "K4": ("Nanshan", "Asia/Shanghai", [], []),  # registered, no camera
    "K5": (
        "Futian",
        "UTC",
        [{"days": "daily", "open": "07:00", "close": "21:00"}],
        ["c1"],
    ),  # a clean one
}
AVAILABILITY = [  # (site/camera, availability, received_at)
    ("K1/c1", "online", SINCE - D),
    ("K1/c1", "offline", SINCE + 2 * D + 3 * H),
    ("K1/c1", "online", SINCE + 2 * D + 9.5 * H),
    ("K1/c2", "online", SINCE + 3 * D + 12 * H),
    ("K1/c2", "offline", SINCE + 4 * D),
    ("K1/c2", "online", SINCE + 4 * D + 6 * H),
    ("K2/c1", "online", SINCE + H),
    ("K1/c9", "online", SINCE),  # not a registered camera: not counted
    ("K3/c1", "offline", SINCE + D),
    ("K5/c1", "online", SINCE - 3 * D),
]
CAMERA_OFFLINE = [  # (site, camera, started, resolved)
    ("K2", "c1", SINCE + 2 * D, SINCE + 2 * D + 6 * H),
    ("K2", "c1", SINCE + 6 * D + 20 * H, None),
    ("K1", "c1", SINCE - 2 * D, SINCE - D),  # before the window
]


def case(
    site: str,
    code: str,
    tier: str,
    decision: str,
    detected: datetime,
    decided: datetime,
    **more: Any,
) -> dict[str, Any]:
    return {
        "site": site,
        "code": code,
        "tier": tier,
        "decision": decision,
        "detected": detected,
        "decided": decided,
        **more,
    }


REVIEWS = [
    case(
        "K1",
        "RODENT",
        "T1",
        "confirm",
        SINCE + D,
        SINCE + D + H,
        fix_due=SINCE + D + 73 * H,
        rectified=SINCE + D + 51 * H,
        closed=SINCE + D + 61 * H,
        state="closed",
    ),
    case(
        "K1",
        "SMOKING",
        "T2",
        "confirm",
        SINCE + 2 * D,
        SINCE + 2 * D + 0.2 * H,
        fix_due=SINCE + 5 * D + 0.2 * H,
        rectified=SINCE + 6 * D,
        closed=SINCE + 6 * D + 5 * H,
        state="closed",
    ),
    case(
        "K1",
        "NO_MASK",
        "T3",
        "confirm",
        SINCE + 3 * D,
        SINCE + 3 * D + 0.1 * H,
        closed=SINCE + 3 * D + 0.1 * H,
        state="closed",
    ),
    case(
        "K1", "NO_MASK", "T3", "dismiss", SINCE + 3 * D, SINCE + 3 * D + 0.2 * H, state="dismissed"
    ),
    case("K1", "PHONE", "T3", "dismiss", SINCE + 4 * D, SINCE + 4 * D + 0.1 * H, state="dismissed"),
    # detected before the window, decided inside it: counts for the false-positive rate only
    case(
        "K1", "NO_HAT", "T3", "confirm", SINCE - 2 * H, SINCE + H, closed=SINCE + H, state="closed"
    ),
    case(
        "K2",
        "NO_MASK",
        "T3",
        "confirm",
        SINCE + 2 * H,
        SINCE + 3 * H,
        closed=SINCE + 3 * H,
        state="closed",
    ),
    case(
        "K2",
        "NO_MASK",
        "T3",
        "confirm",
        SINCE + 5 * D,
        SINCE + 5 * D + H,
        closed=SINCE + 5 * D + H,
        state="closed",
    ),
    case(
        "K2",
        "SMOKING",
        "T2",
        "confirm",
        SINCE + D,
        SINCE + D + H,
        fix_due=SINCE + 4 * D + H,
        state="escalated",
        card="red",
        cards=[("yellow", SINCE + 4 * D + 3 * H), ("red", SINCE + 6 * D)],
    ),
    case(
        "K2", "NO_GLOVES", "T3", "dismiss", SINCE + 5 * D, SINCE + 5 * D + 2 * H, state="dismissed"
    ),
    case(
        "K3", "RODENT", "T1", None, SINCE + 6 * D, None, state="pending_review"
    ),  # undecided: nowhere
    case("K5", "PHONE", "T3", "dismiss", SINCE + 2 * D, SINCE + 2 * D + H, state="dismissed"),
]


def insert_rows(conn: psycopg.Connection[Any]) -> None:
    for site, (district, tz, hours, cams) in SITES.items():
        conn.execute(
            "INSERT INTO site (site_id, kind, name, district, timezone, operating_hours) VALUES (%s, 'kitchen', %s, %s, %s, %s)",
            (site, f"Kitchen {site}", district, tz, Jsonb(hours)),
        )
        for cam in cams:
            # registered before the window: its whole window is expected of it
            conn.execute(
                "INSERT INTO camera (site_id, camera_id, created_at) VALUES (%s, %s, %s)",
                (site, cam, SINCE - 10 * D),
            )
    conn.execute(
        "INSERT INTO site (site_id, kind, district) VALUES ('B1', 'building', 'Futian')"
    )  # not a kitchen
    for key, availability, at in AVAILABILITY:
        conn.execute(
            "INSERT INTO availability_log (device_kind, device_key, site_id, availability, received_at)"
            " VALUES ('camera', %s, %s, %s, %s)",
            (key, key.split("/")[0], availability, at),
        )
    for site, cam, started, resolved in CAMERA_OFFLINE:
        alert(conn, site, cam, "CAMERA_OFFLINE", "T2", started, resolved)
    for r in REVIEWS:
        alert_id = alert(conn, r["site"], "c1", r["code"], r["tier"], r["detected"], None)
        row = conn.execute(
            "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, district, code, tier, state,"
            " detected_at, created_at, updated_at, decision, decided_at, decided_by, fix_due_at,"
            " rectified_at, closed_at, card) VALUES (%s, %s, %s, 'c1', %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " 'supervisor:1', %s, %s, %s, %s) RETURNING id",
            (
                alert_id,
                f"fp{alert_id}",
                r["site"],
                SITES[r["site"]][0],
                r["code"],
                r["tier"],
                r["state"],
                r["detected"],
                r["detected"],
                r["detected"],
                r["decision"],
                r["decided"],
                r.get("fix_due"),
                r.get("rectified"),
                r.get("closed"),
                r.get("card"),
            ),
        ).fetchone()
        for card, at in r.get("cards", []):
            conn.execute(
                "INSERT INTO alert_event (alert_id, at, action, actor, details) VALUES (%s, %s, 'card_issued', 'clock', %s)",
                (alert_id, at, Jsonb({"review_id": row[0], "card": card})),
            )


def alert(
    conn: psycopg.Connection[Any],
    site: str,
    cam: str,
    code: str,
    tier: str,
    started: datetime,
    resolved: datetime | None,
) -> int:
    row = conn.execute(
        "INSERT INTO alert (kind, code, severity, state, device_id, site_id, fingerprint, started_at, updated_at,"
        " last_raised_at, resolved_at) VALUES ('kitchen', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            code,
            tier,
            "resolved" if resolved else "firing",
            cam,
            site,
            f"kitchen|{site}|{cam}|{code}|{next(SERIAL)}",
            started,
            started,
            started,
            resolved,
        ),
    ).fetchone()
    return int(row[0])


# ------------------------------------------------------------ the independent recomputation

Span = tuple[datetime, datetime]


def union(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[0] < s[1]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def intersect(xs: list[Span], ys: list[Span]) -> list[Span]:
    return union([(max(a, c), min(b, d)) for a, b in xs for c, d in ys if max(a, c) < min(b, d)])


def subtract(xs: list[Span], ys: list[Span]) -> list[Span]:
    out = []
    for a, b in xs:
        pieces = [(a, b)]
        for c, d in ys:
            pieces = [p for x, y in pieces for p in ((x, min(y, c)), (max(x, d), y)) if p[0] < p[1]]
        out += pieces
    return union(out)


def hours(spans: list[Span]) -> float:
    return sum((b - a).total_seconds() for a, b in spans) / 3600


DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def day_in(spec: str, weekday: int) -> bool:
    if spec == "daily":
        return True
    for part in spec.split(","):
        ends = part.split("-")
        a, b = DAYS.index(ends[0]), DAYS.index(ends[-1])
        if (a <= b and a <= weekday <= b) or (a > b and (weekday >= a or weekday <= b)):
            return True
    return False


def operating(site: str, since: datetime, until: datetime) -> list[Span]:
    _, tz_name, entries, _ = SITES[site]
    if not entries:
        return [(since, until)]
    tz = ZoneInfo(tz_name)
    spans = []
    day = since.astimezone(tz).date() - timedelta(days=1)
    while day <= until.astimezone(tz).date():
        for e in entries:
            if day_in(e["days"], day.weekday()):
                o, c = time.fromisoformat(e["open"]), time.fromisoformat(e["close"])
                start = datetime.combine(day, o, tz)
                end = datetime.combine(day + timedelta(days=1) if c <= o else day, c, tz)
                spans.append((start.astimezone(UTC), end.astimezone(UTC)))
        day += timedelta(days=1)
    return intersect(union(spans), [(since, until)])


def online(site: str, cam: str, since: datetime, until: datetime) -> list[Span]:
    rows = sorted((at, av) for key, av, at in AVAILABILITY if key == f"{site}/{cam}")
    spans = []
    for i, (at, av) in enumerate(rows):
        end = rows[i + 1][0] if i + 1 < len(rows) else until
        if av == "online":
            spans.append((max(at, since), min(end, until)))
    down = [
        (s, r or datetime.max.replace(tzinfo=UTC))
        for st, c, s, r in CAMERA_OFFLINE
        if (st, c) == (site, cam)
    ]
    return subtract(union(spans), down)


def expected(site: str, s: StatsSettings) -> dict[str, Any]:
    district, _, _, cams = SITES[site]
    ops = operating(site, SINCE, min(UNTIL, NOW))
    cam_hours = sum(hours(intersect(online(site, c, SINCE, UNTIL), ops)) for c in cams)
    any_hours = sum(hours(online(site, c, SINCE, UNTIL)) for c in cams)
    exp_hours = len(cams) * hours(ops)
    mine = [r for r in REVIEWS if r["site"] == site]
    inside = lambda t: t is not None and SINCE <= t < UNTIL  # noqa: E731
    confirmed = [r for r in mine if r["decision"] == "confirm" and inside(r["detected"])]
    tiers = {t: sum(1 for r in confirmed if r["tier"] == t) for t in ("T1", "T2", "T3")}
    decided = [r for r in mine if inside(r["decided"])]
    due = [
        r for r in mine if inside(r.get("fix_due")) and (r["fix_due"] <= NOW or r.get("rectified"))
    ]
    on_time = [r for r in due if r.get("rectified") and r["rectified"] <= r["fix_due"]]
    closed = [r for r in mine if r.get("fix_due") and inside(r.get("closed"))]
    weighted = sum(s.tier_weights[t] * n for t, n in tiers.items())
    v = max(0.0, 1 - weighted * 1000 / cam_hours / s.violation_saturation) if cam_hours else 0.0
    r_ = len(on_time) / len(due) if due else 1.0
    a = cam_hours / exp_hours if exp_hours else 0.0
    fp: dict[str, dict[str, Any]] = {}
    for r in decided:
        f = fp.setdefault(r["code"], {"decided": 0, "dismissed": 0})
        f["decided"] += 1
        f["dismissed"] += r["decision"] == "dismiss"
    for f in fp.values():
        f["rate"] = f["dismissed"] / f["decided"]
    red_cards = sum(
        1
        for r in mine
        for card, at in r.get("cards", [])
        if card in ("red", "inspection") and inside(at)
    )
    return {
        "district": district,
        "cameras": len(cams),
        "camera_hours": cam_hours,
        "expected_hours": exp_hours,
        "online_rate": cam_hours / exp_hours if exp_hours else None,
        "streaming": any_hours > 0,
        "confirmed": len(confirmed),
        "violations_per_1000h": len(confirmed) * 1000 / cam_hours if cam_hours else None,
        "decided": len(decided),
        "dismissed": sum(1 for r in decided if r["decision"] == "dismiss"),
        "rectification_due": len(due),
        "rectified_on_time": len(on_time),
        "on_time_rate": len(on_time) / len(due) if due else None,
        "closed": len(closed),
        "close_hours": sum((r["closed"] - r["decided"]).total_seconds() / 3600 for r in closed),
        "mean_hours_to_close": (
            sum((r["closed"] - r["decided"]).total_seconds() / 3600 for r in closed) / len(closed)
        )
        if closed
        else None,
        # too little observed time: no score ("no data"), never a grade not earned
        "hygiene_score": round(
            100 * (s.weight_violations * v + s.weight_rectification * r_ + s.weight_online * a), 1
        )
        if cam_hours >= s.min_observed_hours
        else None,
        "graded": cam_hours >= s.min_observed_hours,
        "false_positive_rate_by_code": fp,
        "red_cards": red_cards,
        "confirmed_t1": tiers["T1"],
        "confirmed_t2": tiers["T2"],
        "open_cards": sum(
            1 for r in mine if r.get("card") and r["state"] not in ("closed", "dismissed")
        ),
    }


def close(got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is want
    if isinstance(want, float):
        return got == pytest.approx(want, rel=1e-9, abs=1e-9)
    return bool(got == want)


@pytest.fixture
def client(settings: Settings, db_url: str) -> Iterator[TestClient]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        insert_rows(conn)
    runtime = build_runtime(settings, Clock(NOW))
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        yield c


def get(client: TestClient, who: dict[str, str], **params: str) -> Any:
    r = client.get(
        "/api/v1/stats/kitchens",
        params={"since": SINCE.isoformat(), "until": UNTIL.isoformat(), **params},
        headers=who,
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_kitchen_figures_match_an_independent_recomputation(
    client: TestClient, make_token: Any
) -> None:
    s = StatsSettings()
    items = {i["site_id"]: i for i in get(client, make_token("supervisor"))}
    assert sorted(items) == ["K1", "K2", "K3", "K4", "K5"]
    for site, got in items.items():
        want = expected(site, s)
        for key, value in want.items():
            assert close(got[key], value), (site, key, got[key], value)
    # the data exercise what they should
    k1, k2 = items["K1"], items["K2"]
    assert 0 < k1["online_rate"] < 1 and k1["on_time_rate"] == 0.5
    assert k1["false_positive_rate_by_code"]["NO_MASK"]["rate"] == 0.5
    assert k2["camera_hours"] < 24 * 7 and k2["red_cards"] == 1
    # lists: a clean kitchen streaming all its hours is on the red list; K1 and K2 score
    # low (violations in few camera-hours, late rectifications), K2 had a red card, K3 and
    # K4 do not stream
    assert items["K5"]["hygiene_score"] == 100.0 and items["K5"]["online_rate"] == 1.0
    assert [k for k, i in items.items() if i["red_list"]] == ["K5"]
    assert [k for k, i in items.items() if i["black_list"]] == ["K1", "K2", "K3", "K4"]
    assert items["K3"]["black_list_reasons"][0] == "not streaming"
    assert "red card or on-site inspection" in items["K2"]["black_list_reasons"]


def test_district_and_city_figures_sum_their_kitchens(client: TestClient, make_token: Any) -> None:
    s = StatsSettings()
    sup = make_token("supervisor")
    per_site = {site: expected(site, s) for site in SITES}
    for level, groups in (
        ("district", {"Futian": ["K1", "K2", "K5"], "Nanshan": ["K3", "K4"]}),
        ("city", {"city": list(SITES)}),
    ):
        items = get(client, sup, level=level)
        assert len(items) == len(groups)
        for item in items:
            members = [
                per_site[k] for k in groups[item["district"] if level == "district" else "city"]
            ]
            cam_h = sum(m["camera_hours"] for m in members)
            exp_h = sum(m["expected_hours"] for m in members)
            confirmed = sum(m["confirmed"] for m in members)
            due = sum(m["rectification_due"] for m in members)
            decided = sum(m["decided"] for m in members)
            closed = sum(m["closed"] for m in members)
            assert item["kitchens"] == len(members)
            assert close(item["coverage"], sum(m["streaming"] for m in members) / len(members))
            assert close(item["camera_hours"], cam_h)
            assert close(item["online_rate"], cam_h / exp_h if exp_h else None)
            assert close(item["violations_per_1000h"], confirmed * 1000 / cam_h if cam_h else None)
            assert close(
                item["false_positive_rate"],
                sum(m["dismissed"] for m in members) / decided if decided else None,
            )
            assert close(
                item["on_time_rate"],
                sum(m["rectified_on_time"] for m in members) / due if due else None,
            )
            assert close(
                item["mean_hours_to_close"],
                sum(m["close_hours"] for m in members) / closed if closed else None,
            )
            # the mean over the kitchens with a score ("no data" ones do not count)
            scores = [m["hygiene_score"] for m in members if m["hygiene_score"] is not None]
            assert close(
                item["hygiene_score"], round(sum(scores) / len(scores), 1) if scores else None
            )
            assert item["kitchens_graded"] == len(scores)
            # counts are JSON integers, not decimal strings
            for key in (
                "kitchens",
                "cameras",
                "confirmed",
                "decided",
                "dismissed",
                "closed",
                "rectification_due",
                "rectified_on_time",
                "red_cards",
                "confirmed_t1",
            ):
                assert type(item[key]) is int, (key, item[key])
            assert item["confirmed"] == confirmed and item["decided"] == decided
    city = get(client, sup, level="city")[0]
    assert city["coverage"] == 0.6  # K1, K2 and K5 stream; K3 and K4 do not
    fp = city["false_positive_rate_by_code"]
    assert fp["NO_MASK"] == {"decided": 4, "dismissed": 1, "rate": 0.25}


def test_lists_scopes_and_review_speed(client: TestClient, make_token: Any, db_url: str) -> None:
    sup, op1 = make_token("supervisor"), make_token("operator", site_id="K1")
    window = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
    lists = client.get("/api/v1/stats/kitchen-lists", params=window, headers=sup).json()
    # worst score first; K3 and K4 (never streamed: no data, no score) after the scored ones
    assert [k["site_id"] for k in lists["black_list"]] == ["K1", "K2", "K3", "K4"]
    assert [k["hygiene_score"] for k in lists["black_list"]][2:] == [None, None]
    assert [k["site_id"] for k in lists["red_list"]] == ["K5"]
    # an operator sees its own kitchen and nothing else
    assert [i["site_id"] for i in get(client, op1)] == ["K1"]
    for params in ({"level": "district"}, {"level": "city"}, {"site_id": "K2"}):
        r = client.get("/api/v1/stats/kitchens", params={**window, **params}, headers=op1)
        assert r.status_code == 404
    assert client.get("/api/v1/stats/kitchen-lists", headers=op1).status_code == 404
    # found by the API fuzz test: a default window before the year 1 (was a 500)
    for path in ("/api/v1/stats/reviews", "/api/v1/stats/kitchens", "/api/v1/stats/kitchen-lists"):
        r = client.get(path, params={"until": "0001-01-01T00:00:00Z"}, headers=sup)
        assert r.status_code == 422 and "too early" in r.json()["detail"]
    bad = client.get(
        "/api/v1/stats/kitchens",
        params={"since": UNTIL.isoformat(), "until": SINCE.isoformat()},
        headers=sup,
    )
    assert bad.status_code == 422
    with psycopg.connect(db_url, autocommit=True) as conn:
        for seconds, i in zip((1.5, 2.5, 4.0), range(3), strict=True):
            conn.execute("UPDATE review SET decision_seconds = %s WHERE id = %s", (seconds, i + 1))
    speed = client.get("/api/v1/stats/reviews", params=window, headers=sup).json()
    assert speed["timed"] == 3 and speed["median_seconds"] == 2.5 and speed["decisions"] == 11


def test_rolled_up_days_give_the_same_figures(
    client: TestClient, make_token: Any, db_url: str
) -> None:
    sup = make_token("supervisor")
    live = {i["site_id"]: i for i in get(client, sup)}
    with psycopg.connect(db_url, autocommit=True) as conn:
        added = rollup_camera_hours(conn, NOW)
        assert added > 0
        assert rollup_camera_hours(conn, NOW) == 0  # days are rolled up once
        days = conn.execute(
            "SELECT count(DISTINCT day) FROM camera_hours_daily WHERE site_id = 'K1'"
        ).fetchone()[0]
        assert days >= 7
    rolled = {i["site_id"]: i for i in get(client, sup)}
    for site, item in live.items():
        for key in ("camera_hours", "expected_hours", "online_rate", "hygiene_score", "streaming"):
            assert close(rolled[site][key], item[key]), (site, key)
    # a window that does not start at midnight mixes rolled-up days with live edges
    odd = {"since": (SINCE + 5 * H).isoformat(), "until": (UNTIL - 7 * H).isoformat()}
    items = client.get("/api/v1/stats/kitchens", params=odd, headers=sup).json()["items"]
    k1 = next(i for i in items if i["site_id"] == "K1")
    ops = operating("K1", SINCE + 5 * H, UNTIL - 7 * H)
    want = sum(
        hours(intersect(online("K1", c, SINCE + 5 * H, UNTIL - 7 * H), ops)) for c in ("c1", "c2")
    )
    assert close(k1["camera_hours"], want)


def test_the_current_day_comes_from_a_fresh_provisional_rollup(
    settings: Settings, db_url: str, make_token: Any
) -> None:
    """Up to now, the current day is read from its provisional row while that row is
    fresh (15 min), then computed live again; whole days from complete rows."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        insert_rows(conn)
    now = SINCE + 3 * D + 4 * H + 20 * timedelta(minutes=1)  # 12:20 in Shenzhen: K1 is open
    clock = Clock(now)
    runtime = build_runtime(settings, clock)
    sup = make_token("supervisor")
    params = {"since": SINCE.isoformat()}

    def k1_hours(c: TestClient) -> float:
        items = c.get("/api/v1/stats/kitchens", params=params, headers=sup).json()["items"]
        return next(i for i in items if i["site_id"] == "K1")["camera_hours"]

    def exact(until: datetime) -> float:
        ops = operating("K1", SINCE, until)
        return sum(hours(intersect(online("K1", c, SINCE, until), ops)) for c in ("c1", "c2"))

    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        live = k1_hours(c)
        assert close(live, exact(now))
        with psycopg.connect(db_url, autocommit=True) as conn:
            rollup_camera_hours(conn, now)
            kinds = conn.execute(
                "SELECT complete, count(*) FROM camera_hours_daily WHERE site_id = 'K1' GROUP BY 1 ORDER BY 1"
            ).fetchall()
        assert kinds[0][0] is False and kinds[0][1] == 2  # today, per camera: provisional
        assert close(k1_hours(c), exact(now))  # served by the rollup, the same figure
        clock.advance(minutes=10)  # fresh: the figure as of the rollup
        assert close(k1_hours(c), exact(now)) and exact(clock.now) > exact(now)
        clock.advance(minutes=10)  # stale: computed live again
        assert close(k1_hours(c), exact(clock.now))
