"""Silences and the alert history through the HTTP API: created and expired by
supervisors, audited, effective on notifications; hidden from firm and operator tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.alerts.model import AlertSignal
from brightwatch.api.app import create_app
from brightwatch.runtime import Runtime
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.alerts.notify_support import Clock


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, Runtime, Clock]]:
    clock = Clock()
    runtime = build_runtime(settings, clock)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client, runtime, clock


def test_silence_lifecycle_through_the_api(
    api: tuple[TestClient, Runtime, Clock], db_url: str, make_token: Any
) -> None:
    client, runtime, clock = api
    sup, firm = make_token("supervisor"), make_token("firm", firm_id="F1")
    body = {
        "matchers": ["kind=elevator", {"name": "device_id", "value": "E1|E2", "isRegex": True}],
        "duration_s": 3600,
        "comment": "annual inspection of both lifts",
    }
    assert client.post("/api/v1/silences", json=body, headers=firm).status_code == 404
    r = client.post("/api/v1/silences", json=body, headers=sup)
    assert r.status_code == 201, r.text
    silence = r.json()
    assert silence["state"] == "active" and silence["created_by"].startswith("supervisor:")
    assert silence["matchers_text"] == ['kind="elevator"', 'device_id=~"E1|E2"']

    with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
        change = runtime.alert_store.apply_signal(
            conn, AlertSignal("elevator", "DOOR_CYCLING", "P3", "E2", True, clock.now)
        )
    assert change is not None
    got = client.get(f"/api/v1/silences/{silence['id']}", headers=sup).json()
    assert got["silenced_alerts"] == [change.alert.id]
    assert [
        s["id"] for s in client.get("/api/v1/silences?state=active", headers=sup).json()["items"]
    ] == [silence["id"]]

    clock.advance(minutes=10)
    assert client.delete(f"/api/v1/silences/{silence['id']}", headers=sup).status_code == 204
    assert client.delete(f"/api/v1/silences/{silence['id']}", headers=sup).status_code == 409
    assert client.delete("/api/v1/silences/999", headers=sup).status_code == 404
    assert client.get(f"/api/v1/silences/{silence['id']}", headers=sup).json()["state"] == "expired"
    assert client.get("/api/v1/silences?state=active", headers=sup).json()["items"] == []

    events = client.get(f"/api/v1/alerts/{change.alert.id}/history", headers=sup).json()["items"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("fired", "rule:rule"),
        ("silenced", "notifier"),
        ("unsilenced", "notifier"),
    ]
    assert client.get(f"/api/v1/alerts/{change.alert.id}/history", headers=firm).status_code == 404
    audit = client.get("/api/v1/history?action=silenced", headers=sup).json()["items"]
    assert [e["alert_id"] for e in audit] == [change.alert.id]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT action, actor FROM audit_log WHERE object_type = 'silence' ORDER BY id"
        ).fetchall()
    assert [a for a, _ in rows] == ["create", "expire"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"matchers": ["site_id=~.*"], "duration_s": 600, "comment": "all"},
            "must not match the empty string",
        ),
        ({"matchers": ["code=~("], "duration_s": 600, "comment": "x"}, "bad regular expression"),
        ({"matchers": ["code=X"], "comment": "x"}, "exactly one of ends_at and duration_s"),
        ({"matchers": ["code=X"], "duration_s": 600}, "comment"),
        ({"matchers": [], "duration_s": 600, "comment": "x"}, "matchers"),
        (
            {"matchers": ["code=X"], "ends_at": "2020-01-01T00:00:00Z", "comment": "x"},
            "ends_at is in the past",
        ),
        ({"matchers": ["code=X"], "ends_at": "2030-01-01T00:00:00", "comment": "x"}, "time zone"),
        (  # found by the API fuzz test: date arithmetic past the year 9999 (was a 500)
            {
                "matchers": ["code=X"],
                "starts_at": "9999-12-31T23:00:00Z",
                "duration_s": 7200,
                "comment": "x",
            },
            "past the year 9999",
        ),
    ],
)
def test_bad_silences_are_refused_with_the_reason(
    api: tuple[TestClient, Runtime, Clock], make_token: Any, body: dict[str, Any], detail: str
) -> None:
    r = api[0].post("/api/v1/silences", json=body, headers=make_token("supervisor"))
    assert r.status_code == 422
    assert detail in str(r.json()["detail"])


def test_pending_silence_then_in_force(
    api: tuple[TestClient, Runtime, Clock], make_token: Any
) -> None:
    client, _, clock = api
    sup = make_token("admin")
    start = clock.now + timedelta(hours=1)
    r = client.post(
        "/api/v1/silences",
        json={
            "matchers": ["site_id=K1"],
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "comment": "renovation",
        },
        headers=sup,
    )
    assert r.status_code == 201 and r.json()["state"] == "pending"
    clock.advance(hours=1, seconds=1)
    assert (
        client.get("/api/v1/silences?state=active", headers=sup).json()["items"][0]["id"]
        == r.json()["id"]
    )
