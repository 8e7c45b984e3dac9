"""Standby firms per district through the API (issue 15): admins and supervisors set and
read a district's ranking (a district supervisor its own district only, others 404; firm
tokens 404); every replacement audited with the ranking before and after."""

from __future__ import annotations

from urllib.parse import quote

import psycopg
import pytest
from fastapi.testclient import TestClient

from brightwatch.api.auth import create_token
from tests.registry.test_standby import HOME, OTHER

pytestmark = pytest.mark.timeout(120)


def _headers(db_url: str, role: str, **bound: str) -> dict[str, str]:
    with psycopg.connect(db_url) as conn:
        _, secret = create_token(conn, role, **bound)
    return {"Authorization": f"Bearer {secret}"}


def _url(district: str) -> str:
    return f"/api/v1/districts/{quote(district)}/standby-firms"


def test_api_sets_and_reads_the_ranking_audited(
    client: TestClient, db_url: str, firms: list[str]
) -> None:
    admin = _headers(db_url, "admin")
    r = client.put(_url(HOME), json={"firm_ids": ["F2", "F1"]}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"district": HOME, "firm_ids": ["F2", "F1"]}
    assert client.get(_url(HOME), headers=admin).json()["firm_ids"] == ["F2", "F1"]
    bad = client.put(_url(HOME), json={"firm_ids": ["NOPE"]}, headers=admin)
    assert bad.status_code == 422 and "NOPE" in bad.text
    assert client.put(_url(HOME), json={"firm_ids": ["bad id"]}, headers=admin).status_code == 422
    assert client.get(_url(HOME), headers=admin).json()["firm_ids"] == ["F2", "F1"]
    with psycopg.connect(db_url) as conn:
        audit = conn.execute(
            "SELECT action, object_type, object_id, details FROM audit_log"
            " WHERE object_type = 'district_standby_firms'"
        ).fetchall()
    assert audit == [
        ("update", "district_standby_firms", HOME, {"before": [], "after": ["F2", "F1"]})
    ]


def test_api_roles_and_districts(client: TestClient, db_url: str, firms: list[str]) -> None:
    supervisor = _headers(db_url, "supervisor")
    home = _headers(db_url, "supervisor", district=HOME)
    with psycopg.connect(db_url) as conn:
        _, firm_secret = create_token(conn, "firm", firm_id="F1")
    firm = {"Authorization": f"Bearer {firm_secret}"}
    body = {"firm_ids": ["F1"]}
    assert client.put(_url(OTHER), json=body, headers=supervisor).status_code == 200
    assert client.put(_url(HOME), json=body, headers=home).status_code == 200
    assert client.put(_url(OTHER), json=body, headers=home).status_code == 404
    assert client.get(_url(OTHER), headers=home).status_code == 404
    assert client.get(_url(HOME), headers=home).json()["firm_ids"] == ["F1"]
    assert client.get(_url(HOME), headers=firm).status_code == 404
    assert client.get(_url(HOME)).status_code == 401
