from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from brightwatch.dashboards.sample_data import Size, generate
from brightwatch.embedded import EmbeddedPostgres
from tests.conftest import clone_database

# smaller than the benchmark's 1,000 elevators / 100 cameras (bench.dashboards): the tests
# check every query's shape, the benchmark its time
TEST_SIZE = Size(elevators=200, cameras=40, days=30, detailed_elevators=3)


@pytest.fixture(scope="session")
def history_url(pg_server: EmbeddedPostgres) -> str:
    url = clone_database(pg_server, "bw_dashboards_history")
    with psycopg.connect(url) as conn:
        generate(conn, TEST_SIZE)
    return url


@pytest.fixture(scope="session")
def generated_at() -> datetime:
    return datetime.now(UTC)
