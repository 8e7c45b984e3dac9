"""`restore`: verified first, checked against the target, then files, database, migrations."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from brightwatch.backup.archive import (
    CHUNK,
    DUMP,
    FILES,
    TIMESCALE_VERSION,
    BackupError,
    CorruptArchive,
    Hashing,
    TargetNotEmpty,
    members,
    open_member,
    safe_relative,
    verify,
)
from brightwatch.backup.clients import Client, client_args, find_client, one, server_major
from brightwatch.db.migrate import Flavor, available_migrations, migrate
from brightwatch.logs import redact


@dataclass
class Restored:
    manifest: dict[str, Any]
    files_written: int = 0
    files_kept: int = 0
    migrations: list[str] = field(default_factory=list)


_USER_RELATIONS = r"""
SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND n.nspname NOT LIKE '\_timescaledb%' AND n.nspname NOT LIKE 'timescaledb\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
"""


def user_relations(conn: psycopg.Connection[Any]) -> list[str]:
    """Tables, views and sequences that are not PostgreSQL's or an extension's own."""
    return [r[0] for r in conn.execute(_USER_RELATIONS).fetchall()]


def _schema_number(schema_version: str | None) -> str:
    return (schema_version or "").split("_", 1)[0]


def _check_schema(manifest: dict[str, Any]) -> None:
    flavor: Flavor = "timescale" if manifest.get("flavor") == "timescale" else "native"
    newest = available_migrations(flavor)[-1].version
    theirs = _schema_number(manifest.get("schema_version"))
    if theirs > newest:
        raise BackupError(
            f"the backup's schema {manifest.get('schema_version')} is newer than this "
            f"brightwatch knows (up to {newest}): restore with the release that took it"
        )


def _check_timescale(
    conn: psycopg.Connection[Any], manifest: dict[str, Any], *, replacing: bool
) -> str | None:
    """The TimescaleDB version to restore into (None: plain PostgreSQL): the one the dump
    was taken on, which the target must offer (pg_dump does not carry catalogs across
    extension versions; upgrade with ALTER EXTENSION after the restore). `replacing`:
    the installed extension is about to be dropped (--force)."""
    version = manifest.get("timescaledb_version")
    if not version:
        return None
    installed = one(conn, TIMESCALE_VERSION)
    if installed and installed != version and not replacing:
        raise BackupError(
            f"the target runs TimescaleDB {installed}, the backup was taken on {version}: "
            f"restore into a database with TimescaleDB {version}, then ALTER EXTENSION "
            "timescaledb UPDATE"
        )
    offered = {
        r[0]
        for r in conn.execute(
            "SELECT version FROM pg_available_extension_versions WHERE name = 'timescaledb'"
        ).fetchall()
    }
    if version not in offered:
        raise BackupError(
            f"the backup needs TimescaleDB {version} on the target server "
            f"(it offers: {', '.join(sorted(offered)) or 'none'})"
        )
    return str(version)


def _conflicting_files(archive: Path, manifest: dict[str, Any], data_dir: Path) -> list[str]:
    """Files the restore would replace with different bytes."""
    clashes = []
    for name, want in manifest["members"].items():
        if name == DUMP:
            continue
        target = data_dir / safe_relative(name)
        if target.exists() and _file_sha256(target) != want["sha256"]:
            clashes.append(name[len(FILES) :])
    return clashes


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _restore_files(archive: Path, manifest: dict[str, Any], data_dir: Path) -> tuple[int, int]:
    written = kept = 0
    for tar, member in members(archive):
        if not member.name.startswith(FILES):
            continue
        want = manifest["members"][member.name]
        target = data_dir / safe_relative(member.name)
        if target.exists() and _file_sha256(target) == want["sha256"]:
            kept += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, open_member(tar, member) as f:
                reader = Hashing(f)
                shutil.copyfileobj(reader, out, CHUNK)
            if reader.hexdigest() != want["sha256"]:
                raise CorruptArchive(f"{member.name} changed while restoring")
            os.utime(tmp, (member.mtime, member.mtime))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written += 1
    return written, kept


def _wipe(conn: psycopg.Connection[Any]) -> None:
    """--force: drop what the target's public schema holds (and TimescaleDB with it)."""
    with conn.transaction():
        conn.execute("DROP EXTENSION IF EXISTS timescaledb CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _pg_restore(
    client: Client,
    archive: Path,
    manifest: dict[str, Any],
    database_url: str,
    *,
    single_transaction: bool,
    jobs: int,
) -> None:
    dbname, env = client_args(database_url)
    cmd = [str(client.path), "--no-owner", "--no-privileges", "--exit-on-error"]
    if single_transaction:
        cmd.append("--single-transaction")
    cmd.append(f"--dbname={dbname}")
    code = 1
    with tempfile.TemporaryFile() as errors:
        for tar, member in members(archive):
            if member.name != DUMP:
                continue
            with open_member(tar, member) as f:
                reader = Hashing(f)
                if jobs > 1:  # parallel jobs seek in the dump: it needs a file of its own
                    with tempfile.TemporaryDirectory() as work:
                        dump = Path(work) / DUMP
                        with dump.open("wb") as out:
                            shutil.copyfileobj(reader, out, CHUNK)
                        _check_dump(reader, manifest)
                        code = subprocess.run(
                            [*cmd, f"--jobs={jobs}", str(dump)], env=env, stderr=errors
                        ).returncode
                else:
                    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stderr=errors)
                    assert proc.stdin is not None
                    try:
                        while chunk := reader.read(CHUNK):
                            proc.stdin.write(chunk)
                        proc.stdin.close()
                    except BrokenPipeError:
                        pass  # pg_restore stopped early: its messages say why
                    code = proc.wait()
                    if code == 0:
                        _check_dump(reader, manifest)
            break
        if code != 0:
            errors.seek(0)
            text = redact(errors.read().decode(errors="replace").strip())
            raise BackupError(f"pg_restore failed: {text[-2000:]}")


def _check_dump(reader: Hashing, manifest: dict[str, Any]) -> None:
    if reader.hexdigest() != manifest["members"][DUMP]["sha256"]:
        raise CorruptArchive(f"{DUMP} changed while restoring")


def restore(
    archive: Path,
    database_url: str,
    data_dir: Path,
    *,
    force: bool = False,
    jobs: int = 1,
    pg_bin: Path | None = None,
) -> Restored:
    """Verify, check the target, restore the files and the database, then migrate."""
    archive, data_dir = Path(archive), Path(data_dir)
    manifest = verify(archive)  # a damaged archive stops here, before anything is touched
    _check_schema(manifest)
    with psycopg.connect(database_url, autocommit=True) as conn:
        existing = user_relations(conn)
        if existing and not force:
            raise TargetNotEmpty(
                f"the target database is not empty ({len(existing)} relations, e.g. "
                f"{', '.join(existing[:3])}): restore into a new database, or pass --force "
                "to replace what it holds"
            )
        timescale = _check_timescale(conn, manifest, replacing=bool(existing))
        if manifest.get("timescaledb_version") and jobs > 1:
            raise BackupError("a TimescaleDB restore runs as one job (its catalogs need it)")
        clashes = _conflicting_files(archive, manifest, data_dir)
        if clashes and not force:
            raise BackupError(
                f"{len(clashes)} file(s) in {data_dir} differ from the backup's, first "
                f"{clashes[0]}: restore into an empty data folder, or pass --force"
            )
        client = find_client("pg_restore", server_major(conn), pg_bin)
        # checks done: from here on the target changes
        result = Restored(manifest)
        result.files_written, result.files_kept = _restore_files(archive, manifest, data_dir)
        if existing:
            _wipe(conn)
        if timescale:
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS timescaledb VERSION {}").format(
                    sql.Literal(timescale)
                )
            )
            conn.execute("SELECT timescaledb_pre_restore()")
        try:
            _pg_restore(
                client,
                archive,
                manifest,
                database_url,
                single_transaction=timescale is None and jobs == 1,
                jobs=jobs,
            )
        finally:
            if timescale:
                conn.execute("SELECT timescaledb_post_restore()")
    _, result.migrations = migrate(database_url)
    return result
