"""Real services for the tests: a private PostgreSQL cluster and a private mosquitto
broker per test session, on free loopback ports, so tests may stop and restart them.

Each test that asks for `db_url` gets a fresh database cloned from a migrated template;
each test that asks for `settings` gets its own MQTT topic root, so tests never see each
other's traffic.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from brightwatch.db.migrate import migrate
from brightwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from brightwatch.settings import Settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TEMPLATE_DB = "bw_template"


def shared_path(*parts: str) -> Path:
    """A path under ../shared; the test is skipped with a reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs ../shared/{'/'.join(parts)} (not present)")
    return path


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    server.start()
    url = server.create_database(TEMPLATE_DB)
    migrate(url)
    yield server
    server.stop("immediate")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    b = EmbeddedBroker(tmp_path_factory.mktemp("mqtt"))
    b.start()
    yield b
    b.stop()


def clone_database(server: EmbeddedPostgres, name: str | None = None) -> str:
    name = name or f"bw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    return server.url(name)


@pytest.fixture
def db_url(pg_server: EmbeddedPostgres) -> str:
    return clone_database(pg_server)


@pytest.fixture
def firms(db_url: str) -> list[str]:
    """Three maintenance firms, F1 to F3, in the registry."""
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO firm (firm_id) VALUES ('F1'), ('F2'), ('F3')")
    return ["F1", "F2", "F3"]


@pytest.fixture
def topic_root() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(db_url: str, broker: EmbeddedBroker, topic_root: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        mqtt_url=broker.url,
        mqtt_protocol=broker.protocol,
        topic_root=topic_root,
        data_dir=tmp_path / "data",
        unknown_devices="accept",
        instance=f"test-{uuid.uuid4().hex[:6]}",
    )


@pytest.fixture(autouse=True)
def _no_bw_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their settings explicitly; stray BW_ variables must not leak in."""
    for key in list(os.environ):
        if key.startswith("BW_"):
            monkeypatch.delenv(key)


def pytest_configure(config: pytest.Config) -> None:
    """A private temporary root per test session.

    Several sessions run at once on shared machines; pytest's numbered temporary folders
    are rotated by whichever session starts next, which could delete the data folder of a
    PostgreSQL cluster still in use by another session.
    """
    if config.option.basetemp is None:
        import tempfile

        config.option.basetemp = tempfile.mkdtemp(prefix="bw-pytest-")
        config._bw_private_basetemp = True  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    if getattr(config, "_bw_private_basetemp", False) and not os.environ.get("BW_KEEP_TEST_TMP"):
        import shutil

        shutil.rmtree(config.option.basetemp, ignore_errors=True)
