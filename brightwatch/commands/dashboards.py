"""`brightwatch dashboards export|push`."""

from __future__ import annotations

from brightwatch.cli import main
from brightwatch.commands import not_yet


@main.group()
def dashboards() -> None:
    """Grafana dashboards and provisioning as code."""


@dashboards.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def export() -> None:
    """Write the dashboards and provisioning files."""
    not_yet("dashboards export", 6)


@dashboards.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def push() -> None:
    """Upload the dashboards to a Grafana over its HTTP API."""
    not_yet("dashboards push", 6)
