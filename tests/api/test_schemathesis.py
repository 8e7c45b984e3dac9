"""The HTTP API against its own OpenAPI document (quality.md: zero 5xx; issue 10).

Every operation of /openapi.json is called through the in-process ASGI app with inputs
schemathesis generates from the document (valid ones, invalid ones, and valid ones
aimed at the seeded objects so the handlers reach their real code paths), once per
role: admin, supervisor, firm, operator and no token. The database is a throwaway copy,
seeded with a firm, a building, an elevator with a rescue ticket, a kitchen with cameras,
a violation under review with its evidence. Every component is healthy (database and
broker up).

Each response must be no server error, carry a status code, a content type and a body
the document declares for that operation; the only 5xx the document allows (a public
picture that cannot be privacy-filtered) may not come from anything else.

The console's HTML views (`/`, `/console/...`) are not in the document
(include_in_schema=False: the browser's private interface, not the API); the browser
tests in tests/web cover them.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.generation.hypothesis.builder import (
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from brightwatch.api.app import create_app
from brightwatch.api.auth import create_token
from brightwatch.api.settings import ApiSettings
from brightwatch.api.web.pictures import snapshot_path
from brightwatch.db.connect import make_pool
from brightwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from brightwatch.mqttlink.publisher import Publisher
from brightwatch.registry import store
from brightwatch.registry.models import (
    CameraRecord,
    ElevatorRecord,
    FirmRecord,
    OpeningHours,
    SiteRecord,
)
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.alerts.tickets.test_store import fire
from tests.conftest import clone_database
from tests.review.support import add_evidence, jpeg, raise_violation

# Bounded: at most this many generated requests per operation, role and kind of input
# (random valid and invalid inputs; random valid inputs on the seeded objects), plus the
# document's coverage cases (a fixed set per operation). About 4,200 requests per role.
EXAMPLES_PER_OPERATION = 25
ROLES = ("admin", "supervisor", "district_supervisor", "firm", "operator", "anonymous")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# the degraded modes the document declares; any other 5xx fails the test
ALLOWED_5XX = {("GET", "/public/kitchens/{site_id}/cameras/{camera_id}/snapshot.jpg"): {503}}
# a Friday noon in Shanghai: the kitchen is open, so its public pictures are reachable
NOON = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
BASE_URL = f"http://{asgi.HOST}"
STREAM_TIMEOUT_S = 0.3  # the alert stream never ends by itself; read its first events


@dataclass
class Fuzzed:
    app: Any
    client: Any
    headers: dict[str, dict[str, str]]
    seeded: dict[str, Any]
    db_url: str = ""
    role_tokens: list[int] = field(default_factory=list)
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


def _seed(db_url: str, runtime: Any, data_dir: Any) -> dict[str, Any]:
    with psycopg.connect(db_url) as conn:
        store.upsert_firm(conn, "F1", FirmRecord(name="A Lifts"))
        store.upsert_firm(conn, "F2", FirmRecord(name="B Lifts"))
        store.upsert_site(conn, "B1", SiteRecord(kind="building", name="Tower", district="Futian"))
        store.upsert_site(
            conn,
            "K1",
            SiteRecord(
                name="Sunny Canteen",
                operator="Sunny Catering Ltd",
                address="1 Market Street",
                district="Futian",
                operating_hours=[OpeningHours(days="daily", open="06:00", close="22:00")],
            ),
        )
        store.upsert_camera(conn, "K1", "hot", CameraRecord(work_area="cooking", is_public=True))
        store.upsert_camera(conn, "K1", "cold", CameraRecord(work_area="cutting"))
        store.upsert_elevator(
            conn,
            "E1",
            ElevatorRecord(firm_id="F1", standby_firm_id="F2", site_id="B1", district="Futian"),
        )
    alert_id = fire(runtime.alert_store, db_url, device="E1")
    with psycopg.connect(db_url) as conn:
        change = raise_violation(
            conn, runtime.alert_store, "NO_MASK", "K1", "hot", "T3", NOON - timedelta(hours=1)
        )
        assert change is not None and change.alert.id is not None
        kitchen_alert = change.alert.id
        evidence_id = add_evidence(
            conn, data_dir, kitchen_alert, "K1", "hot", "NO_MASK", NOON, boxes=[]
        )
    # the public camera's latest frame: its snapshot is served (privacy-filtered) or,
    # without a face model, refused with the documented 503
    frame = snapshot_path(data_dir, "K1", "hot")
    frame.parent.mkdir(parents=True)
    frame.write_bytes(jpeg(1))
    with psycopg.connect(db_url) as conn:
        # the rescue ticket and the review the two alerts opened
        ticket = conn.execute("SELECT id FROM ticket ORDER BY id LIMIT 1").fetchone()
        review = conn.execute("SELECT id FROM review ORDER BY id LIMIT 1").fetchone()
    assert ticket is not None and review is not None
    return {
        "firm_id": "F1",
        "site_id": "K1",
        "camera_id": "hot",
        "elevator_id": "E1",
        "alert_id": alert_id,
        "ticket_id": ticket[0],
        "review_id": review[0],
        "evidence_id": evidence_id,
        "file_id": 1,  # no rectification files: the case is still under review
    }


def _seed_through_api(client: Any, admin: dict[str, str], seeded: dict[str, Any]) -> None:
    """A ticket attachment and a silence, made the way clients make them."""
    r = client.post(
        f"{BASE_URL}/api/v1/tickets/{seeded['ticket_id']}/attachments",
        files={"file": ("photo.jpg", jpeg(2))},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    seeded["attachment_id"] = r.json()["id"]
    r = client.post(
        f"{BASE_URL}/api/v1/silences",
        json={"matchers": ["code=NO_MASK"], "duration_s": 3600, "comment": "seed"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    seeded["silence_id"] = r.json()["id"]


@pytest.fixture(scope="module")
def fuzzed(
    pg_server: EmbeddedPostgres, broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    db_url = clone_database(pg_server)
    data_dir = tmp_path_factory.mktemp("schemathesis")
    runtime = build_runtime(
        Settings(
            database_url=db_url,
            mqtt_url=broker.url,
            mqtt_protocol=broker.protocol,
            topic_root=f"t{uuid.uuid4().hex[:10]}",
            data_dir=data_dir,
            instance=f"test-{uuid.uuid4().hex[:6]}",
            # the public pages' real code, not their rate limit, for every request
            api=ApiSettings(public_rate_per_minute=1_000_000),
        ),
        clock=lambda: NOON,
    )
    publisher = Publisher(runtime.broker, runtime.client_id("schemathesis")).start()
    publisher.wait_connected(10)
    runtime.health["mqtt"] = publisher.connected.is_set
    seeded = _seed(db_url, runtime, data_dir)
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    role_tokens = []
    with psycopg.connect(db_url) as conn:
        for name, role, firm, site, district in (
            ("admin", "admin", None, None, None),
            ("supervisor", "supervisor", None, None, None),
            ("district_supervisor", "supervisor", None, None, "Futian"),
            ("firm", "firm", "F1", None, None),
            ("operator", "operator", None, "K1", None),
        ):
            token_id, token = create_token(conn, role, firm, site, district=district)
            headers[name] = {"Authorization": f"Bearer {token}"}
            role_tokens.append(token_id)
        # a token the revoke route may revoke, on the seeded path
        seeded["token_id"], _ = create_token(conn, "supervisor", name="revocable")
    seeded["district"] = "Futian"
    pool = make_pool(db_url, max_size=4, name="schemathesis")
    app = create_app(runtime, pool=pool)
    try:
        with asgi.get_client(app) as client:
            _seed_through_api(client, headers["admin"], seeded)
            yield Fuzzed(app, client, headers, seeded, db_url, role_tokens)
    finally:
        pool.close()
        publisher.close()


def _keep_role_tokens(fuzzed: Fuzzed) -> None:
    """Undo a revocation of the roles' own tokens, so that every role keeps reaching every
    operation after the admin's turn at the revoke route."""
    with psycopg.connect(fuzzed.db_url) as conn:
        conn.execute(
            "UPDATE api_token SET revoked_at = NULL WHERE id = ANY(%s)", (fuzzed.role_tokens,)
        )


def _settings() -> settings:
    return settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


def _exercise(fuzzed: Fuzzed, schema: Any, op: Any, role: str) -> None:
    """Schemathesis' own phases (the document's examples, its coverage cases: boundaries,
    wrong types, missing and extra parts; then random valid and invalid inputs), and
    random valid inputs on the seeded objects' paths."""
    headers = fuzzed.headers[role]
    allowed_5xx = ALLOWED_5XX.get((op.method.upper(), op.path), set())
    stream = op.path.endswith("/stream")

    def call(case: Any) -> None:
        fuzzed.requests += 1
        # through the session directly: schemathesis' own sending counts urllib3's
        # connection pools, which urllib3 2.8 no longer lets it do
        request = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
        request["timeout"] = STREAM_TIMEOUT_S if stream else None
        response = fuzzed.client.request(**request)
        fuzzed.statuses[response.status_code] += 1
        if "/api/v1/tokens/" in case.formatted_path:
            _keep_role_tokens(fuzzed)  # the admin revoking its own or another role's token
        body = "" if isinstance(case.body, NotSet) else f" body={case.body!r:.200}"
        where = f"{role}: {case.method} {case.formatted_path} query={case.query!r}{body}"
        problems = []
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            problems += [f"{f.title}: {f.message}".replace("\n", " ") for f in group.exceptions]
        if response.status_code >= 500 and response.status_code not in allowed_5xx:
            problems.append(f"server error {response.status_code}")
        for problem in problems:
            fuzzed.failures.append(f"{where} -> {response.status_code}: {problem[:400]}")

    phases = create_test(
        operation=op,
        test_func=call,
        config=HypothesisTestConfig(
            project=schema.config,
            modes=list(HypothesisTestMode),
            settings=_settings(),
            explicit_settings=_settings(),
        ),
    )
    names = {p.name for p in op.path_parameters}
    tests = [phases]
    if names:
        seeded = op.as_strategy(
            GenerationMode.POSITIVE, path_parameters={n: fuzzed.seeded[n] for n in names}
        )
        tests.append(_settings()(given(case=seeded)(call)))
    for test in tests:
        # an operation without parameters has no invalid inputs to generate
        with contextlib.suppress(Unsatisfiable):
            test()


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_conforms_without_server_errors(fuzzed: Fuzzed, role: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.app)
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) >= 40, "the document lost its operations"
    started, before = time.monotonic(), fuzzed.requests
    fuzzed.failures.clear()
    fuzzed.statuses.clear()
    for op in ops:
        _exercise(fuzzed, schema, op, role)
    print(
        f"\n{role}: {fuzzed.requests - before} requests to {len(ops)} operations"
        f" in {time.monotonic() - started:.1f} s; statuses {sorted(fuzzed.statuses.items())}"
    )
    failures = sorted(set(fuzzed.failures))
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:100])
