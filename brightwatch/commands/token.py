"""`brightwatch token create`."""

from __future__ import annotations

import sys

import click

from brightwatch.cli import main, settings_from_env


@main.group()
def token() -> None:
    """API tokens."""


@token.command()
@click.option(
    "--role", type=click.Choice(["admin", "supervisor", "firm", "operator"]), required=True
)
@click.option("--firm-id", default=None, help="The firm a firm token is bound to.")
@click.option("--site-id", default=None, help="The site an operator token is bound to.")
@click.option("--name", default="", help="A label for the token (who holds it).")
def create(role: str, firm_id: str | None, site_id: str | None, name: str) -> None:
    """Print a new token; the token alone is the last line of output."""
    import psycopg

    from brightwatch.api.auth import create_token
    from brightwatch.contract.ids import InvalidIdentifier, check_id

    settings = settings_from_env()
    try:
        if firm_id is not None:
            check_id(firm_id, "--firm-id")
        if site_id is not None:
            check_id(site_id, "--site-id")
        with psycopg.connect(settings.database_url.get_secret_value()) as conn:
            token_id, secret = create_token(conn, role, firm_id, site_id, name)
    except (ValueError, InvalidIdentifier) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except psycopg.Error as exc:
        from brightwatch.logs import redact

        click.echo(f"error: {redact(str(exc)).strip()}", err=True)
        sys.exit(1)
    scope = f" for firm {firm_id}" if firm_id else f" for site {site_id}" if site_id else ""
    click.echo(f"created {role} token #{token_id}{scope}; it is shown once, keep it secret:")
    click.echo(secret)
