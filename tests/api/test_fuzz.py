"""Property-based fuzz of the HTTP API from its own OpenAPI schema: zero 5xx (quality.md).

Every operation of /openapi.json is called with inputs schemathesis generates from the
schema, valid ones and invalid ones, as an admin (who passes every role check and so
reaches the deepest code) and anonymously, against the real database and broker.
Requests go through Starlette's TestClient (schemathesis' own requests transport does
not work with the urllib3 installed here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core import NotSet
from schemathesis.generation import GenerationMode

from api.app import create_app
from api.auth import create_token
from brightwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from db.connect import make_pool
from mqttlink.client import parse_mqtt_url
from mqttlink.publisher import Publisher
from tests.conftest import clone_database

EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def fuzz_env(
    pg_server: EmbeddedPostgres, broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    db_url = clone_database(pg_server)
    with psycopg.connect(db_url) as conn:
        _, admin = create_token(conn, "admin")
    runtime = build_runtime(
        Settings(database_url=db_url, mqtt_url=broker.url, data_dir=tmp_path_factory.mktemp("fuzz"))
    )
    publisher = Publisher(parse_mqtt_url(broker.url), "fuzz-health").start()
    publisher.wait_connected(10)
    runtime.health["mqtt"] = publisher.connected.is_set
    pool = make_pool(db_url, max_size=4, name="fuzz")
    app = create_app(runtime, pool=pool)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield {"app": app, "client": client, "admin": {"Authorization": f"Bearer {admin}"}}
    pool.close()
    publisher.close()


def operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def send(client: TestClient, case: Any, headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {
        "params": case.query or None,
        "headers": {**(case.headers or {}), **headers},
    }
    if not isinstance(case.body, NotSet):
        body = case.body
        if case.media_type == "application/json" and not isinstance(body, bytes):
            body = json.dumps(body, default=repr).encode()
        kwargs["content"] = body if isinstance(body, bytes) else str(body).encode()
        kwargs["headers"]["content-type"] = case.media_type or "application/octet-stream"
    return client.request(case.method, case.formatted_path, **kwargs)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(fuzz_env: dict[str, Any], mode: GenerationMode) -> None:
    client, admin = fuzz_env["client"], fuzz_env["admin"]
    ops = operations(fuzz_env["app"])
    assert len(ops) >= 10, "the schema lost its operations"
    for op in ops:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            for headers in (admin, {}):
                response = send(client, case, headers)
                where = f"{case.method} {case.formatted_path} query={case.query!r}"
                assert response.status_code < 500, (
                    f"{where}: {response.status_code} {response.text[:300]}"
                )
                if response.status_code >= 400 and response.headers.get(
                    "content-type", ""
                ).startswith("application/json"):
                    assert "detail" in response.json(), where
                assert "Traceback" not in response.text, where

        try:
            check()
        except Unsatisfiable:
            # an operation without parameters has no invalid inputs to generate
            assert mode == GenerationMode.NEGATIVE, op.label
