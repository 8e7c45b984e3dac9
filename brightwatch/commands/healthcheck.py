"""`brightwatch healthcheck`: the container health check of a worker (compose.yaml).

Exit 0 when what the worker depends on answers: the database, the broker with the
worker's own credentials and the process's own /healthz: at BW_METRICS_ADDR when set
(503 when one of its components is stuck), or the URL given with `--http`. A worker
process that dies ends its container (restart policy); this catches one that runs but
cannot work.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, cast

import click

from brightwatch.cli import main, settings_from_env
from brightwatch.settings import Settings, local_host


def _database_ok(url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"database: {type(exc).__name__}"
    return None


def _broker_ok(settings: Settings) -> str | None:
    from brightwatch.mqttlink.client import make_client, parse_mqtt_url

    address = parse_mqtt_url(
        settings.mqtt_url.get_secret_value(), settings.mqtt_protocol, settings.mqtt_ca_file
    )
    client, kwargs = make_client(address, f"{settings.instance}-healthcheck-{os.getpid()}")
    answered = threading.Event()
    result: list[bool] = []

    def on_connect(c: Any, u: Any, flags: Any, reason: Any, props: Any = None) -> None:
        result.append(not reason.is_failure)
        answered.set()

    client.on_connect = on_connect
    try:
        client.connect(address.host, address.port, **cast(Any, kwargs))
    except OSError as exc:
        return f"broker: {type(exc).__name__}"
    client.loop_start()
    try:
        if not answered.wait(5):
            return "broker: no answer"
        return None if result[0] else "broker: connection refused (credentials?)"
    finally:
        client.disconnect()
        client.loop_stop()


def _http_ok(url: str) -> str | None:
    import httpx

    try:
        r = httpx.get(url, timeout=5)
    except httpx.HTTPError as exc:
        return f"http: {type(exc).__name__}"
    if r.status_code == 200:
        return None
    try:  # /healthz names what is wrong in `detail`
        said = str(r.json()["detail"])
    except (ValueError, KeyError, TypeError):
        said = r.text
    return f"http: {r.status_code} {said[:500]}"


def metrics_healthz(metrics_addr: str) -> str:
    """The /healthz URL of a process serving on `metrics_addr` (a wildcard host: loopback)."""
    host, _, port = metrics_addr.rpartition(":")
    return f"http://{local_host(host)}:{port}/healthz"


@main.command()
@click.option(
    "--http",
    "http_url",
    default=None,
    help="Also require 200 from this URL (default: /healthz on BW_METRICS_ADDR when set).",
)
@click.option("--no-broker", is_flag=True, help="Skip the broker check.")
def healthcheck(http_url: str | None, no_broker: bool) -> None:
    """Exit 0 when the database, the broker and the process's /healthz answer."""
    settings = settings_from_env()
    if http_url is None and settings.metrics_addr:
        http_url = metrics_healthz(settings.metrics_addr)
    problems = [_database_ok(settings.database_url.get_secret_value())]
    if not no_broker:
        problems.append(_broker_ok(settings))
    if http_url:
        problems.append(_http_ok(http_url))
    failed = [p for p in problems if p]
    if failed:
        click.echo("unhealthy: " + "; ".join(failed), err=True)
        sys.exit(1)
    click.echo("ok")
