"""`brightwatch dashboards export|push`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brightwatch.cli import main


@main.group()
def dashboards() -> None:
    """Grafana dashboards and provisioning as code."""


@dashboards.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dashboards"),
    show_default=True,
    help="Folder for json/*.json and provisioning/ (compose.yaml mounts ./dashboards).",
)
def export(out: Path) -> None:
    """Write the dashboards (Grafana JSON) and the provisioning files."""
    from dashboards.boards import ALL
    from dashboards.render import export as write

    for path in write(out, ALL):
        click.echo(f"wrote {path}")


@dashboards.command()
@click.option("--url", required=True, help="Grafana base URL, e.g. https://grafana.example:3000")
@click.option(
    "--token",
    envvar="GRAFANA_TOKEN",
    required=True,
    help="Service-account token (also GRAFANA_TOKEN).",
)
@click.option("--folder", default="brightwatch", show_default=True, help="Folder title and uid.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per request.")
def push(url: str, token: str, folder: str, timeout: float) -> None:
    """Upload the dashboards to a Grafana over its HTTP API (overwriting older versions)."""
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaClientError, GrafanaException

    from dashboards.boards import ALL
    from dashboards.render import dashboard_json

    api = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    try:
        try:
            api.folder.get_folder(folder)
        except GrafanaClientError as exc:
            if exc.status_code != 404:
                raise
            api.folder.create_folder(folder, uid=folder)
            click.echo(f"created folder {folder}")
        for d in ALL:
            result = api.dashboard.update_dashboard(
                {
                    "dashboard": dashboard_json(d),
                    "folderUid": folder,
                    "overwrite": True,
                    "message": "brightwatch dashboards push",
                }
            )
            click.echo(f"pushed {d.uid}: {result.get('status', 'ok')} {result.get('url', '')}")
    except GrafanaException as exc:
        click.echo(f"error: Grafana answered {exc.status_code}: {exc.message}", err=True)
        sys.exit(1)
    except Exception as exc:  # connection refused, DNS, TLS ...
        click.echo(f"error: cannot reach Grafana at {url}: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
