"""`brightwatch upstream enqueue|push|status`: export windows queued in the upstream outbox
and pushed to the upstream platform's endpoint (alerts.upstream.push)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import click

from brightwatch.cli import main, settings_from_env, stop_on_signals
from brightwatch.commands import connect, iso_time


@main.group()
def upstream() -> None:
    """Upstream reporting: queue export windows and push them to the platform's endpoint."""


def _now() -> datetime:
    return datetime.now(UTC)


@upstream.command("enqueue")
@click.option("--since", required=True, help="Window start (ISO; UTC when no zone).")
@click.option("--until", required=True, help="Window end, exclusive (ISO; UTC when no zone).")
@click.option(
    "--kind",
    type=click.Choice(["elevators", "kitchens"]),
    multiple=True,
    help="What to export (repeatable; default: both).",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The elevator code table (TOML) to use instead of alerts.upstream.mapping_file / platform.",
)
def enqueue_command(since: str, until: str, kind: tuple[str, ...], mapping: Path | None) -> None:
    """Build the export of [since, until) now and queue it for the pusher."""
    from brightwatch.alerts.stats.queries import Window
    from brightwatch.alerts.upstream.exporters import ExportContext, build
    from brightwatch.alerts.upstream.push import enqueue
    from brightwatch.alerts.upstream.registry import MappingError, platform

    start, end = iso_time(since), iso_time(until)
    if end <= start:
        raise click.BadParameter("--until must be after --since")
    settings = settings_from_env()
    up = settings.alerts.upstream
    try:
        table = platform(up.platform, mapping or up.mapping_file)
    except MappingError as exc:
        raise click.ClickException(str(exc)) from None
    context = ExportContext(table, settings.alerts.stats)
    now = _now()
    with connect(settings) as conn:
        for k in kind or ("elevators", "kitchens"):
            envelope = build(k, conn, context, Window(start, end, now))
            row_id = enqueue(conn, k, envelope, now)
            click.echo(f"queued {k} {start.isoformat()} .. {end.isoformat()} as row {row_id}")


@upstream.command("push")
@click.option("--once", is_flag=True, help="One pass over the due rows, then exit.")
def push_command(once: bool) -> None:
    """POST due rows to alerts.upstream.url; retries with backoff, dead letters at the end."""
    from brightwatch.alerts.upstream.push import Pusher, pending

    settings = settings_from_env()
    try:
        pusher = Pusher(settings.alerts.upstream, _now)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    stop = threading.Event()
    try:
        with (
            stop_on_signals(stop),
            connect(settings, autocommit=True) as conn,
        ):
            while True:
                delivered = pusher.step(conn)
                if delivered:
                    click.echo(f"delivered {delivered} row(s)", err=True)
                if once or stop.wait(settings.alerts.upstream.poll_s):
                    break
            counts = pending(conn)
    finally:
        pusher.close()
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


@upstream.command("status")
def status_command() -> None:
    """Rows waiting, delivered and dead, and the dead letters' reasons."""
    from brightwatch.alerts.upstream.push import pending

    settings = settings_from_env()
    with connect(settings) as conn:
        click.echo(", ".join(f"{k} {v}" for k, v in pending(conn).items()))
        for row_id, kind, dead_at, reason in conn.execute(
            "SELECT id, kind, dead_at, dead_reason FROM upstream_outbox WHERE dead_at IS NOT NULL"
            " ORDER BY id DESC LIMIT 20"
        ):
            click.echo(f"dead {row_id} {kind} {dead_at.isoformat()}: {reason}")
