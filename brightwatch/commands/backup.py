"""`brightwatch backup create|verify|restore`: the database and the evidence files in one
archive (brightwatch/backup.py). Exit 0: done; 1: refused or failed, with the reason."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from brightwatch.cli import main, settings_from_env

PG_BIN = click.option(
    "--pg-bin",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    envvar="BW_BACKUP_PG_BIN",
    default=None,
    help="Folder of pg_dump/pg_restore (default: the ones matching the server's version).",
)


@main.group()
def backup() -> None:
    """Backups of the database and the evidence files, and their restore."""


@contextmanager
def _reported(what: str) -> Iterator[None]:
    """Errors become one line on stderr (passwords redacted) and exit code 1."""
    import psycopg

    from brightwatch.backup import BackupError, CorruptArchive
    from brightwatch.db.migrate import MigrationError
    from brightwatch.logs import redact

    try:
        yield
    except CorruptArchive as exc:
        click.echo(f"{what} refused: the archive is damaged: {exc}; nothing was changed", err=True)
        sys.exit(1)
    except (BackupError, MigrationError) as exc:
        click.echo(f"{what} failed: {redact(str(exc))}", err=True)
        sys.exit(1)
    except (psycopg.Error, OSError) as exc:
        click.echo(f"{what} failed: {redact(str(exc)).strip()}", err=True)
        sys.exit(1)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@backup.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write (a .tar; replaced atomically).",
)
@click.option(
    "--folder",
    "folders",
    multiple=True,
    help="Also archive this folder of BW_DATA_DIR whole (e.g. models, frames); repeatable.",
)
@PG_BIN
def create(out: Path, folders: tuple[str, ...], pg_bin: Path | None) -> None:
    """Dump BW_DATABASE_URL in one snapshot, with the files its rows name, into one archive."""
    from brightwatch.backup import create as create_backup

    settings = settings_from_env()
    with _reported("backup"):
        done = create_backup(
            settings.database_url.get_secret_value(),
            settings.data_dir,
            out,
            folders=folders,
            pg_bin=pg_bin,
        )
    m = done.manifest
    for warning in m["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"backup written: {out} ({_size(out.stat().st_size)}; schema {m['schema_version']}, "
        f"{m['flavor']}; {done.files} files; {len(m['warnings'])} warnings)"
    )


@backup.command()
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
def verify(archive: Path) -> None:
    """Check every member of ARCHIVE against the checksums of its manifest."""
    from brightwatch.backup import verify as verify_archive

    with _reported("verify"):
        m = verify_archive(archive)
    click.echo(
        f"{archive}: intact; taken {m['created_at']} by brightwatch {m['brightwatch_version']}, "
        f"schema {m['schema_version']} ({m['flavor']}), PostgreSQL {m['postgres_version']}"
        + (f", TimescaleDB {m['timescaledb_version']}" if m.get("timescaledb_version") else "")
        + f", {len(m['members']) - 1} files"
    )


@backup.command()
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--database-url",
    required=True,
    envvar="BW_RESTORE_DATABASE_URL",
    help="The database to restore into (empty unless --force); named explicitly, never "
    "taken from BW_DATABASE_URL.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the files go (default: BW_DATA_DIR).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace what the target database's public schema holds and files that differ.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Parallel pg_restore jobs (plain PostgreSQL only; needs room for a copy of the dump).",
)
@PG_BIN
def restore(
    archive: Path,
    database_url: str,
    data_dir: Path | None,
    force: bool,
    jobs: int,
    pg_bin: Path | None,
) -> None:
    """Verify ARCHIVE, restore it, then migrate the schema to this release."""
    from brightwatch.backup import restore as restore_backup

    target_dir = data_dir if data_dir is not None else settings_from_env().data_dir
    with _reported("restore"):
        done = restore_backup(
            archive, database_url, target_dir, force=force, jobs=jobs, pg_bin=pg_bin
        )
    m = done.manifest
    click.echo(
        f"restored {archive} (taken {m['created_at']}, schema {m['schema_version']}); "
        f"files: {done.files_written} written, {done.files_kept} already there; "
        f"migrations applied: {', '.join(done.migrations) or 'none'}"
    )
