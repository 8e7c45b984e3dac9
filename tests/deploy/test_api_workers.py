"""The production stack's API in several worker processes (issue 13, item 5), checked
statically: compose's `api` service leaves the worker count to `brightwatch serve` (one
per CPU) or raises it, gives the workers time to finish on stop and a tmpfs for their
multiprocess metrics; the broker lets `service/api` read the alert topics its live
stream is woken by, and nothing more."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from brightwatch.commands.broker_config import acl_text, service_users
from brightwatch.components.api import STOP_GRACE_S

REPO = Path(__file__).resolve().parents[2]


def _api() -> dict[str, Any]:
    return yaml.safe_load((REPO / "compose.yaml").read_text())["services"]["api"]


def _seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)(s|m)", value)
    assert m, value
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


def test_compose_api_runs_several_workers_and_stops_them_in_time() -> None:
    api = _api()
    assert api["command"] == ["brightwatch", "serve", "--components", "api"]
    workers = api.get("environment", {}).get("BW_API__WORKERS")
    assert workers is None or int(workers) > 1, "compose pins the API to one process"
    assert _seconds(api["stop_grace_period"]) > STOP_GRACE_S
    assert "/tmp" in api["tmpfs"]


def test_service_api_reads_the_alert_topics_only() -> None:
    (api,) = [u for u in service_users("bw") if u.username == "service/api"]
    assert api.rules == (("read", "bw/alerts/+/+"),)
    acl = acl_text([api])
    assert "user service/api\ntopic read bw/alerts/+/+\n" in acl
