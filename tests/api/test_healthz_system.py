"""The API's /healthz shows the whole system from the heartbeat rows (issue 10, item 4):
a stuck or silent component anywhere is a 503 naming it; `?scope=process` answers for
the API's own process only (its container's health check); both answers are in the
OpenAPI document."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

from brightwatch.db import heartbeat
from brightwatch.db.heartbeat import Heartbeat
from tests.support.waiting import wait_until


def _beat(component: str, replica: str, state: str = "ok", reason: str | None = None) -> Heartbeat:
    return Heartbeat(component, replica, "host-a", 4242, state, reason, None, 0, 0, {})


def _healthz(client: TestClient, **params: str) -> tuple[int, dict]:
    r = client.get("/healthz", params=params)
    return r.status_code, r.json()


def test_components_of_every_replica(client: TestClient, db_url: str) -> None:
    wait_until(lambda: client.get("/healthz").status_code == 200, 20, what="healthz ok")
    with psycopg.connect(db_url) as conn:
        heartbeat.write(conn, [_beat("ingest", "ingest-1"), _beat("elevators", "rules-1")])
    status, body = _healthz(client)
    assert status == 200, body
    assert body["status"] == "ok" and body["db"] == "ok" and body["mqtt"] == "ok"
    assert body["components"] == {"elevators": "ok", "ingest": "ok"}
    assert {(r["component"], r["replica"], r["state"]) for r in body["replicas"]} == {
        ("elevators", "rules-1", "ok"),
        ("ingest", "ingest-1", "ok"),
    }

    # one of two rules replicas is stuck: the component is, and /healthz says so
    with psycopg.connect(db_url) as conn:
        heartbeat.write(
            conn,
            [
                _beat("elevators", "rules-2", "stuck", "failing for 41 s (9 consecutive failures)"),
            ],
        )
    status, body = _healthz(client)
    assert status == 503, body
    assert body["status"] == "degraded" and body["db"] == "ok" and body["mqtt"] == "ok"
    assert body["components"] == {"elevators": "stuck", "ingest": "ok"}
    assert "elevators stuck (rules-2: failing for 41 s" in body["detail"]

    # the API's own container stays healthy: another process is stuck, not this one
    status, body = _healthz(client, scope="process")
    assert status == 200 and body == {"status": "ok", "db": "ok", "mqtt": "ok"}, body


def test_silent_replica(client: TestClient, db_url: str) -> None:
    wait_until(lambda: client.get("/healthz").status_code == 200, 20, what="healthz ok")
    with psycopg.connect(db_url) as conn:
        heartbeat.write(conn, [_beat("vision", "vision-1")])
        # its process died a minute ago (default heartbeat_stale_s: 30 s)
        conn.execute("UPDATE component_heartbeat SET updated_at = now() - interval '60 s'")
    status, body = _healthz(client)
    assert status == 503 and body["components"] == {"vision": "silent"}, body
    assert "vision silent (vision-1: no heartbeat for 60 s)" in body["detail"]
    # forgotten after heartbeat_forget_s: the replica is gone for good
    with psycopg.connect(db_url) as conn:
        assert heartbeat.forget(conn, 30) == 1
    status, body = _healthz(client)
    assert status == 200 and "components" not in body, body


def test_openapi_documents_both_answers(client: TestClient) -> None:
    op = client.get("/openapi.json").json()["paths"]["/healthz"]["get"]
    for code in ("200", "503"):
        schema = op["responses"][code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Health"}, (code, schema)
    assert [p["name"] for p in op["parameters"]] == ["scope"]
    health = client.get("/openapi.json").json()["components"]["schemas"]["Health"]
    assert {"status", "db", "mqtt", "components", "replicas", "detail"} <= set(health["properties"])
