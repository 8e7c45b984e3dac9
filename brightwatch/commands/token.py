"""`brightwatch token create|list|revoke`: API tokens, each change audited (audit_log)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from brightwatch.cli import main, settings_from_env

CLI_ACTOR = "cli"  # how the audit trail names whoever runs the command on the server


@main.group()
def token() -> None:
    """API tokens."""


@contextmanager
def _database() -> Iterator[Any]:
    """A connection that commits on success; errors become a message and an exit code
    (2: the request was wrong, 1: the database failed), passwords redacted."""
    import psycopg

    from brightwatch.contract.ids import InvalidIdentifier

    settings = settings_from_env()
    try:
        with psycopg.connect(settings.database_url.get_secret_value()) as conn:
            yield conn
    except (ValueError, InvalidIdentifier) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except psycopg.Error as exc:
        from brightwatch.logs import redact

        click.echo(f"error: {redact(str(exc)).strip()}", err=True)
        sys.exit(1)


@token.command()
@click.option(
    "--role", type=click.Choice(["admin", "supervisor", "firm", "operator"]), required=True
)
@click.option("--firm-id", default=None, help="The firm a firm token is bound to.")
@click.option("--site-id", default=None, help="The site an operator token is bound to.")
@click.option(
    "--district",
    default=None,
    help="The district a supervisor token is bound to (it then sees only that district).",
)
@click.option("--name", default="", help="A label for the token (who holds it).")
def create(
    role: str, firm_id: str | None, site_id: str | None, district: str | None, name: str
) -> None:
    """Print a new token; the token alone is the last line of output."""
    from brightwatch.api.auth import create_token, record_audit
    from brightwatch.contract.ids import check_id

    with _database() as conn:
        if firm_id is not None:
            check_id(firm_id, "--firm-id")
        if site_id is not None:
            check_id(site_id, "--site-id")
        token_id, secret = create_token(conn, role, firm_id, site_id, name, district)
        details = {"role": role, "firm_id": firm_id, "site_id": site_id, "district": district}
        record_audit(conn, CLI_ACTOR, "create", "token", str(token_id), details)
    bound = (
        f" for firm {firm_id}"
        if firm_id
        else f" for site {site_id}"
        if site_id
        else f" for district {district}"
        if district
        else ""
    )
    click.echo(f"created {role} token #{token_id}{bound}; it is shown once, keep it secret:")
    click.echo(secret)


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


COLUMNS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("id", lambda t: str(t.id)),
    ("role", lambda t: t.role),
    ("scope", lambda t: t.scope),
    ("name", lambda t: t.name or "-"),
    ("created", lambda t: _when(t.created_at)),
    ("last used", lambda t: _when(t.last_used_at)),
    ("revoked", lambda t: _when(t.revoked_at)),
)


@token.command("list")
@click.option("--active", is_flag=True, help="Leave revoked tokens out.")
def list_command(active: bool) -> None:
    """Every token: id, role, scope, name, created, last used (to the minute), revoked.
    The secrets are not stored and cannot be shown."""
    from brightwatch.api.auth import list_tokens

    with _database() as conn:
        tokens = list_tokens(conn, include_revoked=not active)
    table = [[name for name, _ in COLUMNS]] + [[cell(t) for _, cell in COLUMNS] for t in tokens]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    for row in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@token.command()
@click.argument("token_id", type=click.IntRange(1, 2**62))
def revoke(token_id: int) -> None:
    """Revoke a token; its next request is refused (401)."""
    from brightwatch.api.auth import record_audit, revoke_token, token_exists

    with _database() as conn:
        if not revoke_token(conn, token_id):
            known = token_exists(conn, token_id)
            click.echo(
                f"token #{token_id} " + ("was already revoked" if known else "does not exist"),
                err=True,
            )
            sys.exit(0 if known else 2)
        record_audit(conn, CLI_ACTOR, "revoke", "token", str(token_id))
    click.echo(f"revoked token #{token_id}")
