"""A supervisor bound to a district (issue 15): it sees only its district. Lists leave
the other districts out; one object of another district is 404, never 403; a city-wide
supervisor still sees everything. Every decision is api/scope.py's."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from brightwatch.api.auth import create_token

pytestmark = pytest.mark.timeout(120)

HOME, OTHER = "福田区", "南山区"
NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def _alert(conn: psycopg.Connection, kind: str, device: str, site: str | None) -> int:  # type: ignore[type-arg]
    code, severity = ("TRAPPED", "P1") if kind == "elevator" else ("NO_MASK", "T2")
    row = conn.execute(
        "INSERT INTO alert (kind, code, severity, state, device_id, site_id, fingerprint,"
        " started_at, updated_at, last_raised_at) VALUES (%s, %s, %s, 'firing', %s, %s, %s,"
        " %s, %s, %s) RETURNING id",
        (kind, code, severity, device, site, f"{kind}:{device}:{code}", NOW, NOW, NOW),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _ticket(conn: psycopg.Connection, elevator: str, district: str) -> int:  # type: ignore[type-arg]
    row = conn.execute(
        "INSERT INTO ticket (type, state, elevator_id, firm_id, district, trigger,"
        " created_at, updated_at) VALUES ('repair', 'created', %s, 'F1', %s, 'DOOR_OPEN_RUNNING',"
        " %s, %s) RETURNING id",
        (elevator, district, NOW, NOW),
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def city(db_url: str) -> dict[str, int]:
    """Two districts: in each a kitchen with an alert and a building whose elevator has an
    alert and a ticket. E-HOME has no district of its own (its building's counts)."""
    ids: dict[str, int] = {}
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO firm (firm_id) VALUES ('F1'), ('F2')")
        for site, kind, district in (
            ("K-HOME", "kitchen", HOME),
            ("K-OTHER", "kitchen", OTHER),
            ("B-HOME", "building", HOME),
            ("B-OTHER", "building", OTHER),
        ):
            conn.execute(
                "INSERT INTO site (site_id, kind, district, operating_hours) VALUES (%s, %s, %s, %s)",
                (site, kind, district, Jsonb([])),
            )
        conn.execute(
            "INSERT INTO elevator (elevator_id, firm_id, site_id, district) VALUES"
            " ('E-HOME', 'F1', 'B-HOME', ''), ('E-OTHER', 'F1', 'B-OTHER', %s)",
            (OTHER,),
        )
        for name in ("HOME", "OTHER"):
            ids[f"elevator_alert_{name}"] = _alert(conn, "elevator", f"E-{name}", f"B-{name}")
            ids[f"kitchen_alert_{name}"] = _alert(conn, "kitchen", f"K-{name}/cam1", f"K-{name}")
            ids[f"ticket_{name}"] = _ticket(conn, f"E-{name}", HOME if name == "HOME" else OTHER)
    return ids


def _headers(db_url: str, role: str, district: str | None = None) -> dict[str, str]:
    with psycopg.connect(db_url) as conn:
        _, secret = create_token(conn, role, district=district)
    return {"Authorization": f"Bearer {secret}"}


def _listed(client: TestClient, path: str, key: str, headers: dict[str, str]) -> set[object]:
    r = client.get(path, headers=headers)
    assert r.status_code == 200, (path, r.text)
    return {item[key] for item in r.json()["items"]}


def test_lists_hold_only_the_district(
    client: TestClient, db_url: str, city: dict[str, int]
) -> None:
    home = _headers(db_url, "supervisor", HOME)
    whole = _headers(db_url, "supervisor")
    assert _listed(client, "/api/v1/elevators", "elevator_id", home) == {"E-HOME"}
    assert _listed(client, "/api/v1/elevators", "elevator_id", whole) == {"E-HOME", "E-OTHER"}
    assert _listed(client, "/api/v1/alerts", "id", home) == {
        city["elevator_alert_HOME"],
        city["kitchen_alert_HOME"],
    }
    assert len(_listed(client, "/api/v1/alerts", "id", whole)) == 4
    assert _listed(client, "/api/v1/tickets", "id", home) == {city["ticket_HOME"]}
    assert _listed(client, "/api/v1/kitchens", "site_id", home) == {"K-HOME"}
    assert _listed(client, "/api/v1/kitchens", "site_id", whole) == {"K-HOME", "K-OTHER"}
    history = client.get("/api/v1/history", headers=home)
    assert history.status_code == 200, history.text


def test_objects_outside_the_district_are_404(
    client: TestClient, db_url: str, city: dict[str, int]
) -> None:
    home = _headers(db_url, "supervisor", HOME)
    whole = _headers(db_url, "supervisor")
    pairs = [
        ("/api/v1/elevators/E-HOME", "/api/v1/elevators/E-OTHER"),
        ("/api/v1/kitchens/K-HOME", "/api/v1/kitchens/K-OTHER"),
        (f"/api/v1/tickets/{city['ticket_HOME']}", f"/api/v1/tickets/{city['ticket_OTHER']}"),
        (
            f"/api/v1/alerts/{city['elevator_alert_HOME']}/history",
            f"/api/v1/alerts/{city['elevator_alert_OTHER']}/history",
        ),
        (
            f"/api/v1/alerts/{city['kitchen_alert_HOME']}/history",
            f"/api/v1/alerts/{city['kitchen_alert_OTHER']}/history",
        ),
        (
            f"/api/v1/alerts/{city['elevator_alert_HOME']}",
            f"/api/v1/alerts/{city['elevator_alert_OTHER']}",
        ),
        (
            f"/api/v1/alerts/{city['kitchen_alert_HOME']}",
            f"/api/v1/alerts/{city['kitchen_alert_OTHER']}",
        ),
    ]
    for inside, outside in pairs:
        assert client.get(inside, headers=home).status_code == 200, inside
        refused = client.get(outside, headers=home)
        assert refused.status_code == 404, (outside, refused.text)
        assert client.get(outside, headers=whole).status_code == 200, outside
    # acting on another district's alert is refused as if it did not exist
    ack = client.post(f"/api/v1/alerts/{city['elevator_alert_OTHER']}/ack", headers=home, json={})
    assert ack.status_code == 404
    # asking for another district's figures is 404; its own are served
    assert client.get(f"/api/v1/stats/kitchens?district={OTHER}", headers=home).status_code == 404
    assert client.get(f"/api/v1/stats/kitchens?district={HOME}", headers=home).status_code == 200
    # an id that is not one is not a way round (404, not a database error)
    assert client.get("/api/v1/tickets/99999999999999999999", headers=home).status_code == 404
    assert client.get("/api/v1/alerts/99999999999999999999", headers=home).status_code in (
        404,
        422,
    )
    assert client.get("/api/v1/alerts/4611686018427387903", headers=whole).status_code == 404


def test_one_alert_reads_as_the_list_shows_it(
    client: TestClient, db_url: str, city: dict[str, int]
) -> None:
    """`GET /api/v1/alerts/{id}`: the list's item for that id, for an integration that
    holds the id of an alert message."""
    whole = _headers(db_url, "supervisor")
    listed = client.get("/api/v1/alerts", headers=whole).json()["items"]
    for item in listed:
        one = client.get(f"/api/v1/alerts/{item['id']}", headers=whole)
        assert one.status_code == 200 and one.json() == item, one.text


def test_console_views_hold_only_the_district(
    client: TestClient, db_url: str, city: dict[str, int]
) -> None:
    home = _headers(db_url, "supervisor", HOME)
    page = client.get("/console/views/elevators", headers=home)
    assert page.status_code == 200, page.text
    assert "E-HOME" in page.text and "E-OTHER" not in page.text
    assert client.get("/console/views/elevators/E-OTHER", headers=home).status_code == 404
    kitchens = client.get("/console/views/kitchens", headers=home)
    assert "K-HOME" in kitchens.text and "K-OTHER" not in kitchens.text
    assert client.get("/console/views/kitchens/K-OTHER", headers=home).status_code == 404


def test_review_queue_holds_only_the_district(
    client: TestClient, db_url: str, city: dict[str, int]
) -> None:
    """The review queue and the cases of a district supervisor: its district's kitchens."""
    with psycopg.connect(db_url) as conn:
        for name in ("HOME", "OTHER"):
            conn.execute(
                "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, code, tier, state,"
                " detected_at, created_at, updated_at) VALUES (%s, %s, %s, 'cam1', 'NO_MASK',"
                " 'T2', 'pending_review', %s, %s, %s)",
                (city[f"kitchen_alert_{name}"], f"r{name}", f"K-{name}", NOW, NOW, NOW),
            )
            conn.execute(
                "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, code, tier, state,"
                " detected_at, created_at, updated_at) VALUES (%s, %s, %s, 'cam1', 'NO_MASK',"
                " 'T2', 'rectifying', %s, %s, %s)",
                (city[f"elevator_alert_{name}"], f"c{name}", f"K-{name}", NOW, NOW, NOW),
            )
    home = _headers(db_url, "supervisor", HOME)
    whole = _headers(db_url, "supervisor")
    assert _listed(client, "/api/v1/reviews", "site_id", home) == {"K-HOME"}
    assert _listed(client, "/api/v1/reviews", "site_id", whole) == {"K-HOME", "K-OTHER"}
    assert _listed(client, "/api/v1/reviews?state=open", "site_id", home) == {"K-HOME"}
    assert _listed(client, "/api/v1/reviews?state=open", "site_id", whole) == {"K-HOME", "K-OTHER"}
