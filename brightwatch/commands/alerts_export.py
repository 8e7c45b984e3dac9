"""`brightwatch alerts export`: alerts with an upstream platform's fault codes
(alerts.upstream; the mapping tables are data files, one per platform)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brightwatch.cli import main, settings_from_env
from brightwatch.commands import connect, iso_time


def alerts_group() -> click.Group:
    """The shared `brightwatch alerts` group."""
    group = main.commands.get("alerts")
    if group is None:

        @main.group()
        def alerts() -> None:
            """Alerts: exports for upstream platforms."""

        group = alerts
    assert isinstance(group, click.Group)
    return group


@alerts_group().command("export")
@click.option(
    "--since", required=True, help="Alerts that started at or after this (ISO; UTC when no zone)."
)
@click.option("--until", required=True, help="... and before this (ISO; UTC when no zone).")
@click.option(
    "--platform",
    "platform_name",
    default="gb2017",
    show_default=True,
    help="Upstream platform (mapping name).",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A mapping file for a platform that is not built in (same format as alerts/upstream/gb2017.toml).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file (default: stdout)."
)
def export_command(
    since: str, until: str, platform_name: str, mapping: Path | None, fmt: str, out: Path | None
) -> None:
    """Write alerts with the upstream platform's code; unmapped codes are reported on stderr."""
    from brightwatch.alerts.upstream.export import export_alerts
    from brightwatch.alerts.upstream.registry import MappingError, platform

    start, end = iso_time(since), iso_time(until)
    if end <= start:
        raise click.BadParameter("--until must be after --since")
    try:
        m = platform(platform_name, mapping)
    except MappingError as exc:
        raise click.ClickException(str(exc)) from None
    settings = settings_from_env()
    with connect(settings) as conn:
        if out is None:
            report = export_alerts(conn, m, start, end, sys.stdout, fmt)
        else:
            with out.open("w", encoding="utf-8", newline="") as f:
                report = export_alerts(conn, m, start, end, f, fmt)
    click.echo(f"{report.written} alert(s) for {m.name}: {report.mapped} mapped", err=True)
    if report.unmapped:
        click.echo(
            "unmapped (written with an empty upstream_code): "
            + ", ".join(f"{code} x{n}" for code, n in sorted(report.unmapped.items())),
            err=True,
        )
