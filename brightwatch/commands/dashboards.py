"""`brightwatch dashboards export|push`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from brightwatch.cli import main

if TYPE_CHECKING:
    import httpx


@main.group()
def dashboards() -> None:
    """Grafana dashboards and provisioning as code."""


ZONE = click.option(
    "--timezone",
    default=None,
    help="IANA zone the dashboards show times in (default: BW_TIMEZONE, Asia/Shanghai).",
)


def _zone(timezone: str | None) -> str:
    from brightwatch.i18n import check_zone
    from brightwatch.settings import load_settings

    try:
        return check_zone(timezone) if timezone else load_settings().timezone
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--timezone") from None


@dashboards.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dashboards"),
    show_default=True,
    help="Folder for json/*.json and provisioning/ (compose.yaml mounts ./dashboards).",
)
@ZONE
def export(out: Path, timezone: str | None) -> None:
    """Write the dashboards (Grafana JSON, a zh-CN and an English set) and the provisioning."""
    from brightwatch.dashboards.boards import ALL
    from brightwatch.dashboards.render import export as write

    for path in write(out, ALL, _zone(timezone)):
        click.echo(f"wrote {path}")


@dashboards.command()
@click.option("--url", required=True, help="Grafana base URL, e.g. https://grafana.example:3000")
@click.option(
    "--token",
    envvar="GRAFANA_TOKEN",
    required=True,
    help="Service-account token (also GRAFANA_TOKEN).",
)
@click.option(
    "--folder",
    default="brightwatch",
    show_default=True,
    help="Folder uid prefix: each language's set goes to <folder>-zh / <folder>-en.",
)
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per request.")
@ZONE
def push(url: str, token: str, folder: str, timeout: float, timezone: str | None) -> None:
    """Upload both language sets to a Grafana over its HTTP API (overwriting older versions)."""
    import httpx

    from brightwatch.dashboards.boards import ALL
    from brightwatch.dashboards.render import FOLDERS, UID_SUFFIX, dashboard_json, uid_of
    from brightwatch.i18n import LOCALES

    zone = _zone(timezone)

    # Grafana's folder and dashboard HTTP API: three calls, so plain httpx rather than a
    # client library (grafana-client brought niquests and urllib3-future, which replaces
    # the urllib3 that requests and schemathesis use).
    try:
        with httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
        ) as api:
            for locale in LOCALES:
                uid = f"{folder}-{UID_SUFFIX[locale]}"
                found = api.get(f"/api/folders/{uid}")
                if found.status_code == 404:
                    title = FOLDERS[locale]
                    _answered(api.post("/api/folders", json={"uid": uid, "title": title}))
                    click.echo(f"created folder {uid}")
                else:
                    _answered(found)
                for d in ALL:
                    body = {
                        "dashboard": dashboard_json(d, locale, zone),
                        "folderUid": uid,
                        "overwrite": True,
                        "message": "brightwatch dashboards push",
                    }
                    result = _answered(api.post("/api/dashboards/db", json=body))
                    click.echo(
                        f"pushed {uid_of(d, locale)}: {result.get('status', 'ok')}"
                        f" {result.get('url', '')}"
                    )
    except GrafanaRefused as exc:
        click.echo(f"error: Grafana answered {exc.status}: {exc.message}", err=True)
        sys.exit(1)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # connection refused, DNS, TLS ...
        click.echo(f"error: cannot reach Grafana at {url}: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


class GrafanaRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _answered(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 2xx answer; GrafanaRefused with Grafana's message otherwise."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not response.is_success:
        message = body.get("message") if isinstance(body, dict) else None
        raise GrafanaRefused(response.status_code, message or response.text[:200])
    return body if isinstance(body, dict) else {}
