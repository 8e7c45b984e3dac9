from fastapi.testclient import TestClient


def register_fleet(client: TestClient, admin: dict[str, str]) -> None:
    for firm in ("FA", "FB"):
        r = client.put(
            f"/api/v1/firms/{firm}", json={"name": firm, "credit_rating": "A"}, headers=admin
        )
        assert r.status_code in (200, 201), r.text
    for eid, firm in (("E-A1", "FA"), ("E-A2", "FA"), ("E-B1", "FB")):
        r = client.put(
            f"/api/v1/elevators/{eid}",
            json={"firm_id": firm, "floor_min": -1, "floor_max": 20, "rated_speed": 1.75},
            headers=admin,
        )
        assert r.status_code == 201, r.text


def test_put_is_idempotent_and_validated(client: TestClient, make_token) -> None:  # type: ignore[no-untyped-def]
    admin = make_token("admin")
    r1 = client.put("/api/v1/firms/F1", json={"name": "Lift Care"}, headers=admin)
    r2 = client.put("/api/v1/firms/F1", json={"name": "Lift Care Ltd"}, headers=admin)
    assert (r1.status_code, r1.json()["created"]) == (201, True)
    assert (r2.status_code, r2.json()["created"]) == (200, False)
    bad = client.put("/api/v1/firms/F1", json={"credit_rating": "Z"}, headers=admin)
    assert bad.status_code == 422 and "detail" in bad.json()
    unknown_firm = client.put("/api/v1/elevators/E9", json={"firm_id": "NOPE"}, headers=admin)
    assert unknown_firm.status_code == 422 and "NOPE" in unknown_firm.json()["detail"]
    assert client.put("/api/v1/firms/bad%20id", json={}, headers=admin).status_code == 422


def test_registry_needs_admin(client: TestClient, make_token) -> None:  # type: ignore[no-untyped-def]
    assert client.put("/api/v1/firms/F1", json={}).status_code == 401
    assert (
        client.put(
            "/api/v1/firms/F1", json={}, headers={"Authorization": "Bearer bw_nope"}
        ).status_code
        == 401
    )
    assert (
        client.put("/api/v1/firms/F1", json={}, headers=make_token("supervisor")).status_code == 403
    )
    assert (
        client.put(
            "/api/v1/firms/F1", json={}, headers=make_token("firm", firm_id="F1")
        ).status_code
        == 404
    )


def test_firm_sees_only_its_elevators(client: TestClient, make_token) -> None:  # type: ignore[no-untyped-def]
    register_fleet(client, make_token("admin"))
    firm_a = make_token("firm", firm_id="FA")
    listed = client.get("/api/v1/elevators", headers=firm_a).json()["items"]
    assert sorted(e["elevator_id"] for e in listed) == ["E-A1", "E-A2"]
    assert client.get("/api/v1/elevators/E-A1", headers=firm_a).status_code == 200
    for path in (
        "/api/v1/elevators/E-B1",
        "/api/v1/elevators/E-B1/status",
        "/api/v1/elevators/NOPE",
    ):
        r = client.get(path, headers=firm_a)
        assert r.status_code == 404 and r.json() == {"detail": "not found"}
    supervisor = make_token("supervisor")
    assert len(client.get("/api/v1/elevators", headers=supervisor).json()["items"]) == 3
    operator = make_token("operator", site_id="S1")
    assert client.get("/api/v1/elevators", headers=operator).status_code == 404


def test_healthz(client: TestClient) -> None:
    from tests.support.waiting import wait_until

    wait_until(lambda: client.get("/healthz").status_code == 200, what="healthz ok")
    assert client.get("/healthz").json() == {"status": "ok", "db": "ok", "mqtt": "ok"}
