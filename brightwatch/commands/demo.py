"""`brightwatch demo`: everything on one machine with nothing configured."""

from __future__ import annotations

import sys

import click

from brightwatch.cli import main


@main.command()
@click.option("--elevators", default=50, show_default=True, help="Simulated elevators.")
@click.option(
    "--kitchens", default=3, show_default=True, help="Simulated kitchens (one camera each)."
)
def demo(elevators: int, kitchens: int) -> None:
    """Embedded PostgreSQL and MQTT broker, simulators, every component, console on :8000."""
    from brightwatch.demo import run_demo

    sys.exit(run_demo(elevators=elevators, kitchens=kitchens))
