"""`brightwatch registry import FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brightwatch.cli import main, settings_from_env


@main.group()
def registry() -> None:
    """The device registry (firms, sites, cameras, elevators)."""


@registry.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
def import_(file: Path) -> None:
    """Load firms, sites, cameras and elevators from a TOML or CSV file (all or nothing)."""
    import psycopg

    from brightwatch.api.auth import record_audit
    from brightwatch.registry.importer import ImportError_, import_file

    settings = settings_from_env()
    try:
        with (
            psycopg.connect(settings.database_url.get_secret_value()) as conn,
            conn.transaction(),
        ):
            result = import_file(conn, file)
            # the audit trail (brightwatch audit export) records the import with the change
            record_audit(
                conn,
                "cli:registry-import",
                "registry.import",
                "registry",
                file.name,
                {"file": str(file), "created": result.created, "updated": result.updated},
            )
    except ImportError_ as exc:
        click.echo(f"import failed, nothing stored: {exc}", err=True)
        sys.exit(2)
    except psycopg.Error as exc:
        from brightwatch.logs import redact

        click.echo(f"import failed: {redact(str(exc)).strip()}", err=True)
        sys.exit(1)
    click.echo(f"imported {file}: {result.summary()}")
