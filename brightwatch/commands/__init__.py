"""Subcommands of `brightwatch`, one module per group; each attaches itself to `cli.main`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import psycopg

    from brightwatch.settings import Settings


def edge_group() -> click.Group:
    """The shared `brightwatch edge` group (elevator terminals and camera agents)."""
    from brightwatch.cli import main

    group = main.commands.get("edge")
    if group is None:

        @main.group()
        def edge() -> None:
            """Agents that run at the site and publish over MQTT."""

        group = edge
    assert isinstance(group, click.Group)
    return group


def not_yet(what: str, issue: int) -> None:
    click.echo(f"{what} is not available yet (planned in issue {issue}).", err=True)
    raise SystemExit(2)


def iso_time(value: str) -> datetime:
    """An ISO date or time given on the command line; UTC when it carries no zone."""
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "an ISO date or time, e.g. 2026-11-01 or 2026-11-01T08:00:00+08:00"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def connect(settings: Settings, **options: Any) -> psycopg.Connection[Any]:
    """A connection to the service's database (BW_DATABASE_URL). psycopg is imported here,
    on first use, so that `brightwatch` starts without it."""
    import psycopg

    return psycopg.connect(settings.database_url.get_secret_value(), **options)
