"""`create`: the database in one exported snapshot, the files its rows name, a manifest."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import psycopg
from psycopg import sql

from brightwatch import __version__
from brightwatch.backup.archive import (
    DUMP,
    FILE_TABLES,
    FILES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    TIMESCALE_VERSION,
    BackupError,
    add_stream,
)
from brightwatch.backup.clients import (
    Client,
    client_args,
    find_client,
    one,
    server_major,
    server_version,
)
from brightwatch.logs import redact

log = logging.getLogger(__name__)


@dataclass
class Created:
    path: Path
    manifest: dict[str, Any]

    @property
    def files(self) -> int:
        return len(self.manifest["members"]) - 1


def _snapshot_facts(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    if not one(conn, "SELECT to_regclass('schema_migration') IS NOT NULL"):
        raise BackupError("the database is not a brightwatch database (no schema_migration)")
    return {
        "schema_version": one(
            conn, "SELECT version || '_' || name FROM schema_migration ORDER BY 1 DESC LIMIT 1"
        ),
        "flavor": one(conn, "SELECT value FROM schema_setting WHERE key = 'flavor'"),
        "timescaledb_version": one(conn, TIMESCALE_VERSION),
        "postgres_version": server_version(conn),
    }


def _dump(client: Client, database_url: str, snapshot: str, target: Path) -> None:
    dbname, env = client_args(database_url)
    cmd = [str(client.path), "--format=custom", f"--snapshot={snapshot}", f"--file={target}"]
    done = subprocess.run(
        [*cmd, f"--dbname={dbname}"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {redact(done.stderr.strip())}")
    if done.stderr.strip():  # TimescaleDB's catalogs make pg_dump warn about circular keys
        log.info("pg_dump: %s", redact(done.stderr.strip()))


def _add_referenced(
    tar: tarfile.TarFile,
    conn: psycopg.Connection[Any],
    data_dir: Path,
    members: dict[str, Any],
    warnings: list[str],
) -> None:
    """Every file the snapshot's rows name, checked against the hash its row recorded."""
    root = data_dir.resolve()
    present = [t for t in FILE_TABLES if one(conn, "SELECT to_regclass(%s) IS NOT NULL", (t,))]
    if not present:
        return  # a schema older than evidence files
    query = sql.SQL(" UNION ").join(
        sql.SQL("SELECT path, sha256 FROM {}").format(sql.Identifier(t)) for t in present
    )
    with conn.cursor(name="bw_backup_files") as cur:
        cur.execute(query + sql.SQL(" ORDER BY 1"))
        for rel, recorded in cur:
            name = FILES + rel
            if name in members:
                continue
            path = (root / rel).resolve()
            if root not in path.parents:
                warnings.append(f"{rel}: outside the data folder, not archived")
                continue
            try:
                f = path.open("rb")
            except OSError:
                warnings.append(f"{rel}: named by the database but missing from the data folder")
                continue
            with f:
                st = os.fstat(f.fileno())
                members[name] = add_stream(tar, name, f, st.st_size, st.st_mtime)
            if members[name]["sha256"] != recorded:
                warnings.append(f"{rel}: does not match the hash its row recorded (archived as is)")


def _add_folder(tar: tarfile.TarFile, data_dir: Path, folder: str, members: dict[str, Any]) -> None:
    """A whole folder of the data directory (models, frames, ...), temporaries left out."""
    base = data_dir / folder
    if not base.is_dir():
        raise BackupError(f"{base} is not a folder")
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for fname in sorted(filenames):
            path = Path(dirpath) / fname
            if fname.startswith(".") or path.is_symlink():
                continue  # write_atomic's temporaries, links
            name = FILES + path.relative_to(data_dir).as_posix()
            if name in members:
                continue
            with path.open("rb") as f:
                st = os.fstat(f.fileno())
                members[name] = add_stream(tar, name, f, st.st_size, st.st_mtime)


def create(
    database_url: str,
    data_dir: Path,
    out: Path,
    *,
    folders: Sequence[str] = (),
    pg_bin: Path | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Created:
    """Write the archive `out` (atomically: a temporary beside it, then renamed)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        if PurePosixPath(folder).is_absolute() or ".." in PurePosixPath(folder).parts:
            raise BackupError(f"{folder!r}: name a folder inside the data folder")
    with contextlib.ExitStack() as stack:
        conn = stack.enter_context(psycopg.connect(database_url))
        client = find_client("pg_dump", server_major(conn), pg_bin)
        # one snapshot for the dump and for the list of files: what the dump's rows name
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        facts = _snapshot_facts(conn)
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=out.parent, prefix=".")))
        dump = work / DUMP
        _dump(client, database_url, str(row[0]), dump)
        partial = work / "archive.tar"
        members: dict[str, Any] = {}
        warnings: list[str] = []
        with partial.open("wb") as raw, tarfile.open(fileobj=raw, mode="w:") as tar:
            with dump.open("rb") as f:
                st = os.fstat(f.fileno())
                members[DUMP] = add_stream(tar, DUMP, f, st.st_size, st.st_mtime)
            dump.unlink()  # the archive holds it now: the disk needs room for one copy
            _add_referenced(tar, conn, Path(data_dir), members, warnings)
            conn.rollback()
            for folder in folders:
                _add_folder(tar, Path(data_dir), folder, members)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": now().isoformat(timespec="seconds"),
                "brightwatch_version": __version__,
                **facts,
                "pg_dump_version": client.version,
                "folders": list(folders),
                "warnings": warnings,
                "members": members,
            }
            body = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
            add_stream(tar, MANIFEST, io.BytesIO(body), len(body), now().timestamp())
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, out)
    for w in warnings:
        log.warning("backup: %s", w)
    return Created(out, manifest)
