"""Console views render only what the caller may see (the API's role scoping), and the
live alert stream is scoped the same way."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.alerts.model import AlertSignal
from brightwatch.registry import store
from brightwatch.registry.models import ElevatorRecord, FirmRecord
from brightwatch.settings import Settings
from brightwatch.wiring import build_alert_store
from tests.web.conftest import register_kitchen


def setup_city(db_url: str) -> None:
    register_kitchen(db_url)
    with psycopg.connect(db_url) as conn:
        for firm in ("FA", "FB"):
            store.upsert_firm(conn, firm, FirmRecord(name=f"Firm {firm}"))
        store.upsert_elevator(conn, "EA1", ElevatorRecord(firm_id="FA", address="1 A Road"))
        store.upsert_elevator(conn, "EB1", ElevatorRecord(firm_id="FB", address="1 B Road"))


def fire(
    settings: Settings,
    device: str,
    code: str = "TRAPPED_OUT_ZONE",
    kind: str = "elevator",
    site: str | None = None,
    severity: str = "P1",
) -> int:
    alerts = build_alert_store(settings)
    with psycopg.connect(settings.database_url.get_secret_value()) as conn, conn.transaction():
        change = alerts.apply_signal(
            conn,
            AlertSignal(
                kind=kind,
                code=code,
                severity=severity,
                device_id=device,
                active=True,
                at=datetime.now(UTC),
                site_id=site,
                summary=f"{code} on {device}",
            ),
        )
    assert change is not None
    return change.alert.id


def test_console_shell_has_no_data_and_no_external_assets(web_client: TestClient) -> None:
    r = web_client.get("/")
    assert r.status_code == 200 and 'id="signin"' in r.text
    assert "http://" not in r.text and "https://" not in r.text
    for asset in ("/static/console.js", "/static/console.css", "/static/public.css"):
        a = web_client.get(asset)
        assert a.status_code == 200 and "max-age" in a.headers["cache-control"]
        assert "https://" not in a.text  # nothing fetched from the internet


def test_views_need_a_token(web_client: TestClient) -> None:
    for path in ("/console/views/alerts", "/console/views/tickets", "/console/views/kitchens/K1"):
        assert web_client.get(path).status_code == 401
        assert web_client.get(path, headers={"Authorization": "Bearer bw_nope"}).status_code == 401


def test_firm_sees_only_its_own(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    fire(web_settings, "EA1")
    fire(web_settings, "EB1")
    fa = make_token("firm", firm_id="FA")
    listing = web_client.get("/console/views/elevators", headers=fa).text
    assert "EA1" in listing and "EB1" not in listing
    assert web_client.get("/console/views/elevators/EA1", headers=fa).status_code == 200
    assert web_client.get("/console/views/elevators/EB1", headers=fa).status_code == 404
    alerts = web_client.get("/console/views/alerts", headers=fa).text
    assert "EA1" in alerts and "EB1" not in alerts
    assert 'data-action="ack"' not in alerts  # firms do not acknowledge alerts
    for path in ("/console/views/kitchens", "/console/views/kitchens/K1", "/console/views/review"):
        assert web_client.get(path, headers=fa).status_code == 404, path


def test_operator_sees_only_its_kitchen(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    with psycopg.connect(db_url) as conn:
        from brightwatch.registry.models import SiteRecord

        store.upsert_site(conn, "K2", SiteRecord(name="Other Kitchen"))
    fire(web_settings, "hot", code="NO_MASK", kind="kitchen", site="K1", severity="T3")
    fire(web_settings, "x", code="RODENT", kind="kitchen", site="K2", severity="T1")
    op = make_token("operator", site_id="K1")
    page = web_client.get("/console/views/kitchens/K1", headers=op)
    assert page.status_code == 200 and "NO_MASK" in page.text and "RODENT" not in page.text
    assert web_client.get("/console/views/kitchens/K2", headers=op).status_code == 404
    assert "K2" not in web_client.get("/console/views/kitchens", headers=op).text
    assert web_client.get("/console/views/elevators", headers=op).status_code == 404


def test_supervisor_views(
    web_client: TestClient, db_url: str, make_token, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    setup_city(db_url)
    alert_id = fire(web_settings, "EA1")
    sup = make_token("supervisor")
    alerts = web_client.get("/console/views/alerts", headers=sup).text
    assert f'data-action="ack" data-id="{alert_id}"' in alerts and "非平层困人" in alerts
    page = web_client.get("/console/views/elevators/EA1", headers=sup).text
    assert "TRAPPED_OUT_ZONE" in page and 'class="timeline"' in page
    assert web_client.get("/console/views/kitchens/K1", headers=sup).status_code == 200
    assert web_client.get("/console/views/review", headers=sup).status_code == 200
    assert web_client.get("/console/views/nope", headers=sup).status_code == 404


def _read_events(
    client: TestClient, headers: dict[str, str], want: int, out: list[dict[str, Any]]
) -> None:
    with client.stream("GET", "/api/v1/alerts/stream", headers=headers) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
                if len(out) >= want:
                    return


@pytest.mark.timeout(60)
def test_alert_stream_is_scoped(
    web_client: TestClient,
    db_url: str,
    make_token,
    web_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    import brightwatch.api.routes.console as console

    monkeypatch.setattr(console, "STREAM_POLL_S", 0.05)
    monkeypatch.setattr(console, "STREAM_LIFETIME_S", 20.0)
    setup_city(db_url)
    fire(web_settings, "EA1", code="OVERSPEED", severity="P2")  # before the stream: not sent
    seen_firm: list[dict[str, Any]] = []
    seen_sup: list[dict[str, Any]] = []
    readers = [
        threading.Thread(
            target=_read_events, args=(web_client, make_token("firm", firm_id="FA"), 1, seen_firm)
        ),
        threading.Thread(
            target=_read_events, args=(web_client, make_token("supervisor"), 2, seen_sup)
        ),
    ]
    for t in readers:
        t.start()
    import time

    time.sleep(1.0)  # both streams connected and past their starting cursor
    fire(web_settings, "EB1")  # firm B's: the firm A stream must not see it
    fire(web_settings, "EA1")
    for t in readers:
        t.join(30)
    assert [e["device_id"] for e in seen_sup] == ["EB1", "EA1"]
    assert [e["device_id"] for e in seen_firm] == ["EA1"]
    assert seen_firm[0]["action"] == "fired" and seen_firm[0]["code"] == "TRAPPED_OUT_ZONE"


def test_calendar_shows_due_tickets_and_planned_dates_of_the_firm(
    web_client: TestClient,
    db_url: str,
    make_token,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    """Maintenance tickets of the firm and the planner's dates before their ticket opens."""
    setup_city(db_url)
    from datetime import timedelta

    now = clock()
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO ticket (type, state, elevator_id, firm_id, trigger, due_at, created_at, updated_at)"
            " VALUES ('quarterly', 'dispatched', 'EA1', 'FA', 'DUE_DATE', %s, %s, %s),"
            " ('quarterly', 'dispatched', 'EB1', 'FB', 'DUE_DATE', %s, %s, %s)",
            (now + timedelta(days=2), now, now, now + timedelta(days=2), now, now),
        )
        store.upsert_elevator(conn, "EA2", ElevatorRecord(firm_id="FA", address="2 A Road"))
        conn.execute(
            "INSERT INTO maintenance_plan (elevator_id, computed_at, reason, eligible, eligibility,"
            " risk_score, factors, interval_days, interval_reason, next_due_at, calendar, inputs)"
            " VALUES ('EA2', %s, 'daily', true, '[]', 0.3, '[]', 21, 'risk', %s, '{}', '{}')",
            (now, now + timedelta(days=12)),
        )
    page = web_client.get("/console/views/calendar", headers=make_token("firm", firm_id="FA")).text
    assert "EA1" in page and "EA2" in page and "(planned)" in page
    assert "EB1" not in page
