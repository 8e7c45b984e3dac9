"""The `brightwatch` command (interfaces.md, CLI)."""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from brightwatch import __version__, stopping
from brightwatch.logs import setup_logging
from brightwatch.settings import Settings, SettingsError, load_settings

log = logging.getLogger("brightwatch")


def settings_from_env(**overrides: object) -> Settings:
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    setup_logging(settings.log_level, settings.log_format)
    return settings


# a stop still running this long after the signal prints every thread's stack (stderr)
STOP_STACKS_AFTER_S = 30.0
# what `leave` gives threads that outlive the components before the process exits anyway
LEAVE_WITHIN_S = 10.0


@contextmanager
def stop_on_signals(stop_event) -> Iterator[None]:
    """SIGINT/SIGTERM set `stop_event` (a second Ctrl-C exits at once). A stop that takes
    longer than STOP_STACKS_AFTER_S prints where each thread is (`leave` cancels that)."""
    previous = {}

    def handler(signum, frame):
        if stop_event.is_set():
            os._exit(130)
        click.echo("\nstopping ...", err=True)
        stopping.arm("stop", STOP_STACKS_AFTER_S, exit=False)
        stop_event.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)


def leave(code: int, within_s: float = LEAVE_WITHIN_S) -> int:
    """`code`, once the threads that outlive a long-running command have ended. A thread
    still running after `within_s` (a stuck library call, a pool worker that never
    returns) cannot hold the process: it is named, every stack is printed, and the
    process ends here with `code`, its logs flushed."""
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    stuck = stopping.join_within((t for t in others if not t.daemon), within_s)
    stopping.disarm()
    if not stuck:
        return code
    log.error(
        "%s still running %.0f s after the components stopped; exiting anyway",
        ", ".join(stuck),
        within_s,
    )
    faulthandler.dump_traceback(all_threads=True)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="brightwatch")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="BW_CONFIG",
    help="TOML settings file (also BW_CONFIG).",
)
def main(config: Path | None) -> None:
    """brightwatch: bright-kitchen and elevator monitoring."""
    if config is not None:
        os.environ["BW_CONFIG"] = str(config)


@main.command()
@click.option(
    "--flavor",
    type=click.Choice(["auto", "native", "timescale"]),
    default="auto",
    show_default=True,
    help="Time-series flavour for a new database.",
)
def migrate(flavor: str) -> None:
    """Create or upgrade the database schema (idempotent)."""
    from brightwatch.db.migrate import MigrationError
    from brightwatch.db.migrate import migrate as run_migrations
    from brightwatch.settings import timescale_plan

    settings = settings_from_env()
    try:
        # on TimescaleDB: chunk interval and jobs for BW_FLEET__* (db/timescale.py)
        chosen, applied = run_migrations(
            settings.database_url.get_secret_value(),
            want_flavor=flavor,
            plan=timescale_plan(settings),
        )
    except MigrationError as exc:
        click.echo(f"migration failed: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # connection errors and the like, without a traceback
        from brightwatch.logs import redact

        click.echo(f"migration failed: {redact(str(exc))}", err=True)
        sys.exit(1)
    click.echo(f"schema up to date ({chosen}); applied {len(applied)}: {', '.join(applied) or '-'}")


@main.command()
@click.option(
    "--components",
    default="ingest,elevators,vision,alerts,api",
    show_default=True,
    help="Comma-separated components to run in this process.",
)
def serve(components: str) -> None:
    """Run the chosen components against the configured database and broker."""
    from brightwatch.service import run_service

    settings = settings_from_env()
    names = [c.strip() for c in components.split(",") if c.strip()]
    sys.exit(leave(run_service(settings, names)))


from brightwatch.commands import (  # noqa: E402  (command modules attach to `main`)
    alerts_export,
    audit,
    backup,
    broker_config,
    certs,
    dashboards,
    demo,
    edge_camera,
    edge_elevator,
    healthcheck,
    models,
    registry,
    replicas,
    token,
    upstream,
    vision,
    vision_assess,
    vision_reviews,
)

__all__ = [
    "alerts_export",
    "audit",
    "backup",
    "broker_config",
    "certs",
    "dashboards",
    "demo",
    "edge_camera",
    "edge_elevator",
    "healthcheck",
    "main",
    "models",
    "registry",
    "replicas",
    "token",
    "upstream",
    "vision",
    "vision_assess",
    "vision_reviews",
]
