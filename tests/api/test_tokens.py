"""Token administration (issue 15): list and revoke through the API and the CLI, each
audited; a revoked token is refused on its very next request, by this API process and by
any other one (nothing is cached)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.cli import main
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime

pytestmark = pytest.mark.timeout(120)


def _token(db_url: str, role: str, **bound: str) -> tuple[int, dict[str, str]]:
    with psycopg.connect(db_url) as conn:
        token_id, secret = create_token(conn, role, **bound)
    return token_id, {"Authorization": f"Bearer {secret}"}


def _audit(db_url: str) -> list[tuple[str, str, str, str]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT actor, action, object_type, object_id FROM audit_log"
            " WHERE object_type = 'token' ORDER BY id"
        ).fetchall()
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture
def second_process_client(settings: Settings) -> Iterator[TestClient]:
    """A second API app with its own pool: another worker process, as far as the
    database can tell."""
    with TestClient(create_app(build_runtime(settings)), raise_server_exceptions=False) as c:
        yield c


def test_revocation_takes_effect_on_the_next_request(
    client: TestClient, second_process_client: TestClient, db_url: str
) -> None:
    admin_id, admin = _token(db_url, "admin")
    sup_id, sup = _token(db_url, "supervisor")
    for c in (client, second_process_client):  # both have seen (and could cache) it
        assert c.get("/api/v1/elevators", headers=sup).status_code == 200

    r = client.post(f"/api/v1/tokens/{sup_id}/revoke", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": sup_id, "revoked": True}
    for c in (client, second_process_client):
        refused = c.get("/api/v1/elevators", headers=sup)
        assert refused.status_code == 401, refused.text
    assert _audit(db_url) == [(f"admin:{admin_id}", "revoke", "token", str(sup_id))]

    again = client.post(f"/api/v1/tokens/{sup_id}/revoke", headers=admin)
    assert again.json() == {"id": sup_id, "revoked": False}
    assert client.post("/api/v1/tokens/999999/revoke", headers=admin).status_code == 404
    assert len(_audit(db_url)) == 1, "only a change is audited"


def test_cli_revocation_reaches_a_running_api(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sup_id, sup = _token(db_url, "supervisor")
    assert client.get("/api/v1/alerts", headers=sup).status_code == 200
    monkeypatch.setenv("BW_DATABASE_URL", db_url)
    done = CliRunner().invoke(main, ["token", "revoke", str(sup_id)])
    assert done.exit_code == 0, done.output
    assert client.get("/api/v1/alerts", headers=sup).status_code == 401
    assert _audit(db_url) == [("cli", "revoke", "token", str(sup_id))]
    unknown = CliRunner().invoke(main, ["token", "revoke", "999999"])
    assert unknown.exit_code == 2 and "does not exist" in unknown.output


def test_list_shows_scope_use_and_revocation(client: TestClient, db_url: str) -> None:
    _, admin = _token(db_url, "admin")
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO firm (firm_id) VALUES ('F1')")
        firm_id, firm = create_token(conn, "firm", firm_id="F1")
        district_id, _ = create_token(conn, "supervisor", district="福田区")
        conn.execute("UPDATE api_token SET revoked_at = now() WHERE id = %s", (district_id,))
    firm_headers = {"Authorization": f"Bearer {firm}"}
    assert client.get("/api/v1/tickets", headers=firm_headers).status_code == 200

    r = client.get("/api/v1/tokens", headers=admin)
    assert r.status_code == 200, r.text
    items = {t["id"]: t for t in r.json()["items"]}
    assert items[firm_id]["scope"] == "firm:F1"
    assert items[firm_id]["last_used_at"] is not None, "the firm token was used"
    assert items[district_id]["scope"] == "district:福田区"
    assert items[district_id]["revoked_at"] is not None
    assert all("secret" not in t and "token_hash" not in t for t in items.values())
    active = client.get("/api/v1/tokens?active=true", headers=admin).json()["items"]
    assert district_id not in {t["id"] for t in active} and firm_id in {t["id"] for t in active}

    # admins only: a supervisor is refused, a firm token does not learn the route exists
    _, sup = _token(db_url, "supervisor")
    assert client.get("/api/v1/tokens", headers=sup).status_code == 403
    assert client.get("/api/v1/tokens", headers=firm_headers).status_code == 404
    assert client.post(f"/api/v1/tokens/{firm_id}/revoke", headers=sup).status_code == 403


def test_cli_create_list_and_district(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_DATABASE_URL", db_url)
    runner = CliRunner()
    made = runner.invoke(main, ["token", "create", "--role", "supervisor", "--district", "南山区"])
    assert made.exit_code == 0, made.output
    assert "for district 南山区" in made.output
    assert made.output.strip().splitlines()[-1].startswith("bw_")
    wrong = runner.invoke(main, ["token", "create", "--role", "admin", "--district", "南山区"])
    assert wrong.exit_code == 2 and "only a supervisor" in wrong.output

    listed = runner.invoke(main, ["token", "list"])
    assert listed.exit_code == 0, listed.output
    header, *rows = listed.output.strip().splitlines()
    assert header.split()[:4] == ["id", "role", "scope", "name"]
    assert len(rows) == 1 and "supervisor" in rows[0] and "district:南山区" in rows[0]
    with psycopg.connect(db_url) as conn:
        audited = conn.execute(
            "SELECT actor, action, details->>'district' FROM audit_log WHERE object_type = 'token'"
        ).fetchall()
    assert audited == [("cli", "create", "南山区")]
