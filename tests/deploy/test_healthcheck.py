"""`brightwatch healthcheck`, the compose health check of every brightwatch service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from brightwatch.embedded import EmbeddedBroker, free_port

REPO = Path(__file__).resolve().parents[2]


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "brightwatch", "healthcheck", *args],
        cwd=REPO,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_healthy_when_database_and_broker_answer(db_url: str, broker: EmbeddedBroker) -> None:
    done = _check(
        {"BW_DATABASE_URL": db_url, "BW_MQTT_URL": broker.url, "BW_MQTT_PROTOCOL": broker.protocol}
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_unhealthy_names_the_failing_part(db_url: str, broker: EmbeddedBroker) -> None:
    dead_broker = _check(
        {"BW_DATABASE_URL": db_url, "BW_MQTT_URL": f"mqtt://127.0.0.1:{free_port()}"}
    )
    assert dead_broker.returncode == 1 and "broker" in dead_broker.stderr
    dead_db = _check(
        {
            "BW_DATABASE_URL": f"postgresql://u:secret@127.0.0.1:{free_port()}/x",
            "BW_MQTT_URL": broker.url,
        },
        "--no-broker",
    )
    assert (
        dead_db.returncode == 1 and "database" in dead_db.stderr and "secret" not in dead_db.stderr
    )
    no_api = _check(
        {"BW_DATABASE_URL": db_url, "BW_MQTT_URL": broker.url},
        "--no-broker",
        "--http",
        f"http://127.0.0.1:{free_port()}/healthz",
    )
    assert no_api.returncode == 1 and "http" in no_api.stderr
