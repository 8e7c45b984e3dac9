from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from brightwatch.embedded import EmbeddedPostgres, find_postgres_bin


@pytest.fixture
def private_pg(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of the test's own in `tmp_path/postgres`, started (skipped where no
    server binaries exist); stopped at the end whatever the test left it in."""
    try:
        find_postgres_bin()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    pg = EmbeddedPostgres(tmp_path / "postgres")
    pg.start()
    yield pg
    pg.stop()
