"""Apply numbered SQL migrations, once each, in order, under an advisory lock."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import psycopg

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


def _choose_flavor(conn: psycopg.Connection[Any], want: str) -> Flavor:
    row = conn.execute("SELECT value FROM schema_setting WHERE key = 'flavor'").fetchone()
    if row:
        return _as_flavor(row[0])
    flavor: Flavor = "native"
    if want != "native":
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()
        if available:
            try:
                with conn.transaction():
                    conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
                flavor = "timescale"
            except psycopg.Error as exc:
                log.warning(
                    "TimescaleDB is available but cannot be created (%s); using native", exc
                )
        if want == "timescale" and flavor != "timescale":
            raise MigrationError("TimescaleDB was required but is not available on this server")
    conn.execute("INSERT INTO schema_setting (key, value) VALUES ('flavor', %s)", (flavor,))
    return flavor


def migrate(url: str, *, want_flavor: str = "auto") -> tuple[Flavor, list[str]]:
    """Create or upgrade the schema; idempotent. Returns the flavour and what was applied."""
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            with conn.transaction():
                _bootstrap(conn)
                flavor = _choose_flavor(conn, want_flavor)
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
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return flavor, applied_now


def flavor_of(conn: psycopg.Connection[Any]) -> Flavor:
    row = conn.execute("SELECT value FROM schema_setting WHERE key = 'flavor'").fetchone()
    if not row:
        raise MigrationError("the database is not migrated: run `brightwatch migrate`")
    return _as_flavor(row[0])
