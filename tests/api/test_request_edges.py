"""Requests at the edges of what the API accepts (issue 10): each answered with the
status the OpenAPI document gives it, never a 500; and the document itself says what
the API does (bearer scheme, typed bodies, every status, one error body)."""

from __future__ import annotations

import json
import threading
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool
from schemathesis.python import asgi

from brightwatch.api.app import create_app
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime

ERROR_REF = "#/components/schemas/ErrorBody"
BASE = f"http://{asgi.HOST}"


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_openapi_says_what_the_api_does(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    error = doc["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["detail"]
    api = [(m, p, op) for m, p, op in _operations(doc) if p.startswith("/api/")]
    assert len(api) >= 35
    for method, path, op in api:
        where = f"{method} {path}"
        assert op.get("security") == [{"bearer": []}], where
        responses = op["responses"]
        assert {"401", "422", "503"} <= set(responses), where
        for status, response in responses.items():
            if status[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, f"{where} {status}"
        ok = [s for s in responses if s.startswith("2")]
        assert ok, where
        for status in ok:
            content = responses[status].get("content", {})
            if "application/json" in content:
                # a named model, not an untyped object
                assert "$ref" in content["application/json"]["schema"], f"{where} {status}"
    public = [(p, op) for _, p, op in _operations(doc) if p.startswith("/public/")]
    for path, op in public:
        assert "security" not in op and {"404", "429", "503"} <= set(op["responses"]), path
    writes = [op for m, p, op in api if m in ("POST", "PUT")]
    assert all("400" in op["responses"] for op in writes)


def test_text_with_nul_is_refused_naming_the_parameter(client: TestClient, make_token) -> None:  # type: ignore[no-untyped-def]
    admin = make_token("admin")
    for path, name in (
        ("/api/v1/elevators?district=a%00b", "district"),
        ("/api/v1/history?actor=%00", "actor"),
        ("/api/v1/kitchens?district=%00", "district"),
    ):
        r = client.get(path, headers=admin)
        assert r.status_code == 422, path
        assert r.json()["detail"][0]["loc"] == ["query", name], path


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/api/v1/alerts/1/ack", '{"note": "a\\u0000b"}', "note contains a NUL"),
        (
            "/api/v1/tickets/1/transitions",
            '{"to": "completed", "items": {"\\u0000": "ok"}}',
            "a key of items contains a NUL",
        ),
        (
            "/api/v1/silences",
            '{"matchers": ["a=\\ud800"], "duration_s": 600, "comment": "x"}',
            "matchers[0] contains a lone surrogate",
        ),
    ],
)
def test_unstorable_text_in_a_body_is_refused_by_name(
    client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
    path: str,
    body: str,
    named: str,
) -> None:
    r = client.post(
        path,
        content=body.encode(),
        headers={**make_token("admin"), "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert named in r.json()["detail"][0]["msg"]


def test_a_silence_past_the_year_9999_in_utc_is_refused_and_not_stored(
    client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
) -> None:
    admin = make_token("admin")
    # 9999-12-31 23:00 at UTC-14 is 10000-01-01 13:00 UTC: PostgreSQL stores it, Python
    # cannot read it back
    for body in (
        {"starts_at": "9999-12-31T23:00:00-14:00", "duration_s": 600},
        {"starts_at": "9999-12-31T09:30:00-14:00", "duration_s": 3600},
    ):
        r = client.post(
            "/api/v1/silences",
            json={"matchers": ["code=NO_MASK"], "comment": "x", **body},
            headers=admin,
        )
        assert r.status_code == 422, r.text
    assert client.get("/api/v1/silences", headers=admin).json()["items"] == []


@pytest.mark.parametrize("zone", ["Asia", "a" * 300])
def test_a_time_zone_that_is_no_zone_file_is_refused(
    client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
    zone: str,
) -> None:
    # "Asia" is a folder of the zone database, a long name is too long for a file name
    r = client.put("/api/v1/sites/S1", json={"timezone": zone}, headers=make_token("admin"))
    assert r.status_code == 422
    assert "unknown time zone" in r.json()["detail"][0]["msg"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "last_event_id",
    # past Python's 4,300-digit int parsing, past bigint, a Latin-1 digit, not digits
    ["9" * 5000, "99999999999999999999999", "\u00b2", "-1", "12x"],
)
def test_the_alert_stream_resumes_only_from_an_event_id(
    settings: Settings,
    make_token,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    last_event_id: str,
) -> None:
    import brightwatch.api.routes.console as console

    monkeypatch.setattr(console, "STREAM_POLL_S", 0.05)
    monkeypatch.setattr(console, "STREAM_LIFETIME_S", 0.3)
    # this client sends headers as Latin-1 bytes, as browsers may, and raises the app's
    # errors, including one inside the stream after it started
    with asgi.get_client(create_app(build_runtime(settings))) as c:
        r = c.get(
            f"{BASE}/api/v1/alerts/stream",
            headers={**make_token("supervisor"), "Last-Event-ID": last_event_id},
            timeout=30,
        )
    assert r.status_code == 200
    assert r.text.startswith("retry: ")


def _conflicts(db_url: str, sqlstate: str, times: int) -> None:
    """The next `times` audit_log inserts fail as PostgreSQL fails the loser of a deadlock
    (40P01) or a serialisation conflict (40001)."""
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE SEQUENCE conflict_seq")
        conn.execute(
            "CREATE FUNCTION conflict() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN IF nextval('conflict_seq') <= {int(times)} THEN"
            f" RAISE EXCEPTION 'simulated conflict' USING ERRCODE = '{sqlstate}';"
            " END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER conflict BEFORE INSERT ON audit_log"
            " FOR EACH ROW EXECUTE FUNCTION conflict()"
        )


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialisation_failure_is_retried(
    client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
    db_url: str,
    sqlstate: str,
) -> None:
    admin = make_token("admin")
    _conflicts(db_url, sqlstate, times=2)
    r = client.put("/api/v1/firms/F1", json={"name": "A Lifts"}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json() == {"firm_id": "F1", "created": True}
    with psycopg.connect(db_url) as conn:
        audit = conn.execute("SELECT object_id FROM audit_log WHERE object_type = 'firm'")
        assert audit.fetchall() == [("F1",)]


def test_a_conflict_that_outlasts_the_retries_is_503_with_nothing_stored(
    client: TestClient,
    make_token,  # type: ignore[no-untyped-def]
    db_url: str,
) -> None:
    admin = make_token("admin")
    _conflicts(db_url, "40P01", times=1000)
    r = client.put("/api/v1/firms/F1", json={"name": "A Lifts"}, headers=admin)
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert "conflicting changes" in json.loads(r.text)["detail"]
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM firm").fetchone() == (0,)


@pytest.mark.timeout(120)
def test_concurrent_requests_cannot_starve_the_pool(
    settings: Settings,
    make_token,  # type: ignore[no-untyped-def]
    db_url: str,
) -> None:
    # two connections, eight requests at once: when a request held its connection while
    # it waited for a second one to check its token, two requests could hold both and
    # wait for each other until the pool gave up (503)
    headers = make_token("supervisor")
    pool = ConnectionPool(db_url, min_size=2, max_size=2, timeout=5, name="starve", open=True)
    start = threading.Barrier(8)
    statuses: list[int] = []

    def call() -> None:
        with asgi.get_client(app) as c:
            start.wait()
            for _ in range(5):
                statuses.append(c.get(f"{BASE}/api/v1/alerts", headers=headers).status_code)

    try:
        app = create_app(build_runtime(settings), pool=pool)
        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        pool.close()
    assert statuses == [200] * 40
