"""Apply numbered SQL migrations, once each, in order, under an advisory lock."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import psycopg

from brightwatch.db.timescale import Plan, apply_plan, version_problem

log = logging.getLogger(__name__)

Flavor = Literal["timescale", "native"]
_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(timescale|native))?\.sql$")
_LOCK_KEY = 0x62775F6D6967  # "bw_mig"


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    variant: str | None
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations(flavor: Flavor) -> list[Migration]:
    found: dict[str, Migration] = {}
    seen_variants: dict[str, set[str]] = {}
    folder = resources.files("brightwatch.db") / "migrations"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        m = _NAME_RE.match(entry.name)
        if not m:
            continue
        version, name, variant = m.groups()
        if variant:
            seen_variants.setdefault(version, set()).add(variant)
        if variant and variant != flavor:
            continue
        if version in found:
            raise MigrationError(f"two migrations numbered {version}")
        found[version] = Migration(version, name, variant, entry.read_text(encoding="utf-8"))
    for version, variants in seen_variants.items():
        if variants != {"timescale", "native"}:
            raise MigrationError(f"migration {version} needs both .timescale.sql and .native.sql")
    return [found[v] for v in sorted(found)]


def _bootstrap(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migration (
            version text PRIMARY KEY,
            name text NOT NULL,
            variant text,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS schema_setting (
            key text PRIMARY KEY,
            value text NOT NULL
        );
        """
    )


def _as_flavor(value: object) -> Flavor:
    if value == "timescale":
        return "timescale"
    if value == "native":
        return "native"
    raise MigrationError(f"unknown schema flavour {value!r}")


PRELOAD_HINT = (
    "TimescaleDB is installed on this server but not preloaded: add timescaledb to"
    " shared_preload_libraries in postgresql.conf and restart PostgreSQL"
)


def timescale_preloaded(conn: psycopg.Connection[Any]) -> bool:
    """CREATE EXTENSION timescaledb without the library preloaded ends the session with a
    FATAL error (the caller then only sees "the connection is closed"): ask first."""
    row = conn.execute("SELECT current_setting('shared_preload_libraries', true)").fetchone()
    libraries = [p.strip().strip('"') for p in str(row[0] if row and row[0] else "").split(",")]
    return any(lib == "timescaledb" or lib.startswith("timescaledb-") for lib in libraries)


def _create_timescale(conn: psycopg.Connection[Any], want: str) -> bool:
    """True when the extension now exists; False to fall back to native (`want` auto)."""
    if not timescale_preloaded(conn):
        if want == "timescale":
            raise MigrationError(PRELOAD_HINT)
        log.warning("%s; using native PostgreSQL", PRELOAD_HINT)
        return False
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        return True
    except psycopg.Error as exc:
        if conn.closed or conn.broken:
            # the server ended the session (the preload check above was fooled, e.g. by a
            # library of another name): the connection cannot be used to go on natively
            raise MigrationError(f"{PRELOAD_HINT} ({exc})") from exc
        if want == "timescale":
            raise MigrationError(f"TimescaleDB cannot be created: {exc}") from exc
        log.warning("TimescaleDB is available but cannot be created (%s); using native", exc)
        return False


def _choose_flavor(conn: psycopg.Connection[Any], want: str) -> Flavor:
    row = conn.execute("SELECT value FROM schema_setting WHERE key = 'flavor'").fetchone()
    if row:
        return _as_flavor(row[0])
    flavor: Flavor = "native"
    if want != "native":
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()
        if available and _create_timescale(conn, want):
            flavor = "timescale"
        if want == "timescale" and flavor != "timescale":
            raise MigrationError("TimescaleDB was required but is not available on this server")
    conn.execute("INSERT INTO schema_setting (key, value) VALUES ('flavor', %s)", (flavor,))
    return flavor


def check_timescale_version(conn: psycopg.Connection[Any]) -> str:
    """The installed TimescaleDB version; MigrationError when it is older than supported."""
    row = conn.execute(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    ).fetchone()
    if not row:
        raise MigrationError("the schema is TimescaleDB but the extension is not installed")
    problem = version_problem(str(row[0]))
    if problem:
        raise MigrationError(problem)
    return str(row[0])


def migrate(
    url: str, *, want_flavor: str = "auto", plan: Plan | None = None
) -> tuple[Flavor, list[str]]:
    """Create or upgrade the schema; idempotent. Returns the flavour and what was applied.

    On TimescaleDB the version is checked first (>= 2.19) and, when `plan` is given (the
    CLI passes the one for the configured fleet), chunk interval and jobs are brought to
    it afterwards without re-creating jobs that are already right."""
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            with conn.transaction():
                _bootstrap(conn)
                flavor = _choose_flavor(conn, want_flavor)
                if flavor == "timescale":
                    check_timescale_version(conn)
            applied = {
                v: c for v, c in conn.execute("SELECT version, checksum FROM schema_migration")
            }
            for mig in available_migrations(flavor):
                if mig.version in applied:
                    if applied[mig.version] != mig.checksum:
                        raise MigrationError(
                            f"migration {mig.version}_{mig.name} was changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                log.info(
                    "applying migration %s_%s (%s)", mig.version, mig.name, mig.variant or "all"
                )
                try:
                    with conn.transaction():
                        conn.execute(mig.sql.encode())
                        conn.execute(
                            "INSERT INTO schema_migration (version, name, variant, checksum)"
                            " VALUES (%s, %s, %s, %s)",
                            (mig.version, mig.name, mig.variant, mig.checksum),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"migration {mig.version}_{mig.name} failed: {exc}"
                    ) from exc
                applied_now.append(f"{mig.version}_{mig.name}")
            if flavor == "timescale" and plan is not None:
                with conn.transaction():
                    for change in apply_plan(conn, plan):
                        log.info("timescale: %s", change)
        finally:
            if not (conn.closed or conn.broken):  # a dead session holds no lock
                conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return flavor, applied_now


def flavor_of(conn: psycopg.Connection[Any]) -> Flavor:
    row = conn.execute("SELECT value FROM schema_setting WHERE key = 'flavor'").fetchone()
    if not row:
        raise MigrationError("the database is not migrated: run `brightwatch migrate`")
    return _as_flavor(row[0])


def check_server(url: str) -> Flavor | None:
    """At service start: the schema's flavour (None while the database is not migrated
    yet), after refusing a TimescaleDB older than 2.19 (MigrationError) so an old server
    is named at once, not found by lost replays."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('schema_setting')").fetchone() == (None,):
            return None
        row = conn.execute("SELECT value FROM schema_setting WHERE key = 'flavor'").fetchone()
        if not row:
            return None
        flavor = _as_flavor(row[0])
        if flavor == "timescale":
            check_timescale_version(conn)
    return flavor
