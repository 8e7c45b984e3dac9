"""The tickets API with real tokens: scoping (another firm's ticket is 404), illegal
steps 409, completion rules 422, attachments with hashes and limits, the detail view."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.api.app import create_app
from brightwatch.runtime import Runtime
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime, ticket_desk_of
from tests.alerts.tickets.conftest import Clock
from tests.alerts.tickets.test_store import fire

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


@pytest.fixture
def runtime(settings: Settings, clock: Clock) -> Runtime:
    return build_runtime(settings, clock)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        yield c


def _ticket(city: str, runtime: Runtime) -> int:
    fire(runtime.alert_store, city)
    with psycopg.connect(city) as conn:
        row = conn.execute("SELECT id FROM ticket ORDER BY id DESC LIMIT 1").fetchone()
    assert row
    return int(row[0])


def test_firm_sees_and_moves_only_its_own_tickets(
    city: str,
    runtime: Runtime,
    client: TestClient,
    make_token,
    clock: Clock,  # type: ignore[no-untyped-def]
) -> None:
    tid = _ticket(city, runtime)
    fa, fb = make_token("firm", firm_id="FA"), make_token("firm", firm_id="FB")
    sup = make_token("supervisor")
    assert [t["id"] for t in client.get("/api/v1/tickets", headers=fa).json()["items"]] == [tid]
    assert client.get("/api/v1/tickets", headers=fb).json()["items"] == []
    assert client.get(f"/api/v1/tickets/{tid}", headers=fb).status_code == 404
    r = client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "accepted"}, headers=fb)
    assert r.status_code == 404
    r = client.post(
        f"/api/v1/tickets/{tid}/attachments", files={"file": ("a.jpg", JPEG)}, headers=fb
    )
    assert r.status_code == 404
    listed = client.get("/api/v1/tickets?state=open&type=rescue&elevator_id=E1", headers=sup)
    item = listed.json()["items"][0]
    assert item["id"] == tid and item["sla"]["step"] == "accepted"
    assert client.get("/api/v1/tickets?state=completed", headers=sup).json()["items"] == []
    # an operator has no tickets API at all
    op = make_token("operator", site_id="S1")
    assert client.get("/api/v1/tickets", headers=op).status_code == 404
    assert client.get("/api/v1/tickets").status_code == 401


def test_illegal_steps_are_409_and_incomplete_ones_422(
    city: str,
    runtime: Runtime,
    client: TestClient,
    make_token,
    clock: Clock,  # type: ignore[no-untyped-def]
) -> None:
    tid = _ticket(city, runtime)
    fa, sup = make_token("firm", firm_id="FA"), make_token("supervisor")

    def step(to: str, who: dict[str, str], **body: object) -> int:
        return client.post(
            f"/api/v1/tickets/{tid}/transitions", json={"to": to, **body}, headers=who
        ).status_code

    assert step("arrived", fa) == 409  # not accepted yet
    assert step("verified", fa) == 409  # a firm never verifies
    assert step("nonsense", fa) == 422
    assert step("accepted", fa) == 200
    assert step("accepted", fa) == 409  # twice
    clock.advance(minutes=12)
    assert step("arrived", fa) == 200
    assert step("completed", fa) == 422  # no result
    assert step("completed", fa, result="fault_cleared") == 422  # a repair's result
    assert step("completed", fa, result="released_in_service", note="released at 8:20") == 200
    assert step("verified", sup) == 200
    assert step("cancelled", sup) == 409  # closed
    detail = client.get(f"/api/v1/tickets/{tid}", headers=fa).json()
    assert detail["state"] == "verified" and "released at 8:20" in detail["notes"]
    assert [h["to_state"] for h in detail["history"]] == [
        "created",
        "dispatched",
        "accepted",
        "arrived",
        "completed",
        "verified",
    ]
    assert detail["arrived_at"].startswith("2026-11-20T08:12")
    steps = {c["step"]: c for c in detail["clocks"]}
    assert steps["accepted"]["met_at"] and steps["arrived"]["met_at"]


def test_maintenance_completion_needs_every_item(
    city: str,
    runtime: Runtime,
    client: TestClient,
    make_token,
    clock: Clock,  # type: ignore[no-untyped-def]
) -> None:
    desk = ticket_desk_of(runtime)
    with psycopg.connect(city) as conn:
        tid = desk.open_maintenance(
            conn,
            elevator_id="E1",
            type="half_yearly",
            due_at=clock(),
            trigger="DUE_DATE",
            plan_id=None,
            now=clock(),
            items=[{"code": "H1", "name": "ropes"}, {"code": "H2", "name": "buffers"}],
        )
    fa = make_token("firm", firm_id="FA")
    for to in ("accepted", "arrived"):
        assert (
            client.post(
                f"/api/v1/tickets/{tid}/transitions", json={"to": to}, headers=fa
            ).status_code
            == 200
        )
    detail = client.get(f"/api/v1/tickets/{tid}", headers=fa).json()
    assert [i["code"] for i in detail["items"]] == ["H1", "H2"]
    body = {"to": "completed", "result": "done", "items": {"H1": "ok"}}
    assert (
        client.post(f"/api/v1/tickets/{tid}/transitions", json=body, headers=fa).status_code == 422
    )
    body["items"] = {"H1": "ok", "H2": "replaced"}
    r = client.post(f"/api/v1/tickets/{tid}/transitions", json=body, headers=fa)
    assert r.status_code == 200
    assert [i["result"] for i in r.json()["items"]] == ["ok", "replaced"]


def test_attachments_are_hashed_limited_and_checked_on_read(
    city: str,
    runtime: Runtime,
    client: TestClient,
    make_token,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    tid = _ticket(city, runtime)
    fa = make_token("firm", firm_id="FA")
    url = f"/api/v1/tickets/{tid}/attachments"
    r = client.post(url, files={"file": ("p.jpg", JPEG)}, data={"note": "car"}, headers=fa)
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["sha256"] == hashlib.sha256(JPEG).hexdigest() and att["content_type"] == "image/jpeg"
    with psycopg.connect(city) as conn:
        path = conn.execute(
            "SELECT path FROM ticket_attachment WHERE id = %s", (att["id"],)
        ).fetchone()
    stored = Path(settings.data_dir) / path[0]
    assert stored.read_bytes() == JPEG
    got = client.get(f"{url}/{att['id']}", headers=fa)
    assert got.status_code == 200 and got.content == JPEG
    assert (
        client.post(url, files={"file": ("x.exe", b"MZ" + b"\0" * 100)}, headers=fa).status_code
        == 415
    )
    big = b"\xff\xd8\xff" + b"\0" * runtime.settings.alerts.tickets.upload_max_bytes
    assert client.post(url, files={"file": ("big.jpg", big)}, headers=fa).status_code == 413
    stored.write_bytes(JPEG + b"tampered")
    assert client.get(f"{url}/{att['id']}", headers=fa).status_code == 409
    detail = client.get(f"/api/v1/tickets/{tid}", headers=fa).json()
    assert [a["id"] for a in detail["attachments"]] == [att["id"]]


def test_supervisor_dispatches_an_unassigned_ticket_to_a_firm(
    city: str,
    runtime: Runtime,
    client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
) -> None:
    fire(runtime.alert_store, city, device="NOT_REGISTERED")
    with psycopg.connect(city) as conn:
        row = conn.execute("SELECT id, state, firm_id FROM ticket").fetchone()
    assert row and row[1:] == ("created", None)
    url = f"/api/v1/tickets/{row[0]}/transitions"
    sup, fa = make_token("supervisor"), make_token("firm", firm_id="FA")
    assert client.post(url, json={"to": "dispatched"}, headers=sup).status_code == 422
    assert (
        client.post(url, json={"to": "dispatched", "firm_id": "NOPE"}, headers=sup).status_code
        == 422
    )
    assert client.get(f"/api/v1/tickets/{row[0]}", headers=fa).status_code == 404
    r = client.post(url, json={"to": "dispatched", "firm_id": "FA"}, headers=sup)
    assert r.status_code == 200 and r.json()["firm_id"] == "FA"
    # now it is FA's, and FA cannot hand it on
    body = {"to": "accepted", "firm_id": "FB"}
    assert client.post(url, json=body, headers=fa).status_code == 409
    assert client.post(url, json={"to": "accepted"}, headers=fa).status_code == 200
