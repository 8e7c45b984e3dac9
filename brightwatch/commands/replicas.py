"""`brightwatch replicas list|retire`: the replicas the heartbeat table knows, and retiring
a member removed for good: an ingest member's parked messages drained and its session
ended; a partitioned rules or vision replica's session ended (every other replica
received the same messages) and its leases freed.

Each replica runs with its own stable BW_INSTANCE (`ingest-0`, `ingest-1`, ...), never
the host name: its MQTT client ids derive from it, so a restart resumes the persistent
session. Only a member that will not come back is retired."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import click

from brightwatch.cli import main, settings_from_env, stop_on_signals
from brightwatch.commands import connect

if TYPE_CHECKING:
    import psycopg


@main.group()
def replicas() -> None:
    """Replicas of the components: list them, retire one removed for good."""


def live_replicas(
    conn: psycopg.Connection[Any], stale_s: float
) -> list[tuple[str, str, str, int, float]]:
    """(component, replica, host, pid, age in s) of every heartbeat newer than `stale_s`."""
    rows = conn.execute(
        "SELECT component, replica, host, pid, extract(epoch FROM now() - updated_at)::float8"
        " FROM component_heartbeat WHERE updated_at > now() - make_interval(secs => %s)"
        " ORDER BY replica, component",
        (stale_s,),
    ).fetchall()
    return [(r[0], r[1], r[2], int(r[3]), float(r[4])) for r in rows]


@replicas.command("list")
def list_command() -> None:
    """The replicas with a recent heartbeat (component, instance, host, pid)."""
    settings = settings_from_env()
    with connect(settings) as conn:
        rows = live_replicas(conn, settings.health.heartbeat_stale_s)
    for component, replica, host, pid, age in rows:
        click.echo(f"{replica}\t{component}\t{host}\t{pid}\t{age:.0f} s ago")


@replicas.command("retire")
@click.option("--instance", required=True, help="BW_INSTANCE of the member removed for good.")
@click.option(
    "--component",
    type=click.Choice(["ingest", "elevators", "vision"]),
    default="ingest",
    show_default=True,
    help="Whose sessions: the ingest shared-group consumers, or a partitioned rules"
    " (elevators) or vision replica.",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker sessions the member ran (its BW_INGEST__WORKERS; default: this one's).",
)
@click.option(
    "--quiet",
    "quiet_s",
    type=float,
    default=3.0,
    show_default=True,
    help="Seconds without a message after which a session counts as drained.",
)
@click.option(
    "--timeout",
    "max_s",
    type=float,
    default=600.0,
    show_default=True,
    help="Give up (keeping the session) after this many seconds per session.",
)
@click.option("--force", is_flag=True, help="Even when the instance still has a heartbeat.")
def retire_command(
    instance: str, component: str, workers: int | None, quiet_s: float, max_s: float, force: bool
) -> None:
    """Drain the member's parked messages into the database, then end its sessions."""
    from brightwatch.components.ingest import retire

    settings = settings_from_env()
    if component != "ingest":
        _retire_partitioned(settings, instance, component, force)
        return
    if not force:
        with connect(settings) as conn:
            live = [
                r
                for r in live_replicas(conn, settings.health.heartbeat_stale_s)
                if r[1] == instance and r[0].startswith(component)
            ]
        if live:
            raise click.ClickException(
                f"{instance} still runs {component} (host {live[0][2]}, pid {live[0][3]});"
                " stop it first, or pass --force"
            )
    stop = threading.Event()
    with stop_on_signals(stop):
        done = retire(
            settings,
            instance,
            workers or settings.ingest.workers,
            quiet_s=quiet_s,
            max_s=max_s,
            stop=stop,
        )
    failed = False
    for r in done:
        if not r.session_found:
            click.echo(f"{r.client_id}: no session kept")
        elif r.ended:
            click.echo(f"{r.client_id}: {r.messages} message(s) drained, session ended")
        else:
            failed = True
            click.echo(f"{r.client_id}: not drained ({r.messages} so far), session kept", err=True)
    if failed:
        raise SystemExit(1)


def _retire_partitioned(settings: Any, instance: str, component: str, force: bool) -> None:
    """A rules or vision replica removed for good: without a shared group its session gets
    a copy of every device's messages, which it would keep for a week; the replicas left
    received them too, so the session is ended unread and the replica's leases freed."""
    from brightwatch.db.partitions import forget_member
    from brightwatch.mqttlink.retire import end_session
    from brightwatch.runtime import broker_of

    section = settings.elevators if component == "elevators" else settings.vision
    if not section.partitions:
        raise click.ClickException(
            f"{component} runs without partitions here: that replica's session holds the only"
            " copy of its messages; start it again instead of retiring it"
        )
    with connect(settings) as conn:
        live = [
            r
            for r in live_replicas(conn, settings.health.heartbeat_stale_s)
            if r[1] == instance and r[0].startswith(component)
        ]
        if live and not force:
            raise click.ClickException(
                f"{instance} still runs {component} (host {live[0][2]}, pid {live[0][3]});"
                " stop it first, or pass --force"
            )
        freed = forget_member(conn, component, instance)
    session = "rules" if component == "elevators" else "vision"
    client_id = f"{instance}-{session}-0"
    if not end_session(broker_of(settings), client_id):
        raise click.ClickException(f"{client_id}: the broker refused the connection")
    click.echo(f"{client_id}: session ended; {freed} lease(s) freed")
