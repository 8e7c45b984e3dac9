"""Health and metrics of `brightwatch serve` processes without the API (issue 10, items 4
and 5), each a real process on the real database and broker:

- a process running only ingest serves /metrics (the component, consumer and ingest
  families) and /healthz (200, ok) on BW_METRICS_ADDR, writes its heartbeat, which the
  API's /healthz shows, and deletes it on a clean stop;
- a rules worker whose batches the database refuses on every try (disk full, retried
  without end) is named stuck by its own /healthz and by the API's /healthz within 60 s,
  and healthy again once the database takes its writes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from fastapi.testclient import TestClient

from brightwatch.api.app import create_app
from brightwatch.embedded import EmbeddedBroker, free_port
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.ingest.conftest import status
from tests.support.mqtt import publish
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def serve(settings: Settings, component: str, tmp_path: Path) -> Iterator[tuple[str, dict]]:
    """`brightwatch serve --components <component>` with BW_METRICS_ADDR on a free
    loopback port and short health thresholds; yields the base URL and the environment,
    stops it with SIGTERM (exit 0 required)."""
    addr = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.update(
        BW_DATABASE_URL=settings.database_url.get_secret_value(),
        BW_MQTT_URL=settings.mqtt_url.get_secret_value(),
        BW_MQTT_PROTOCOL=settings.mqtt_protocol,
        BW_TOPIC_ROOT=settings.topic_root,
        BW_DATA_DIR=str(tmp_path / component),
        BW_INSTANCE=f"{settings.instance}-{component}",
        BW_UNKNOWN_DEVICES="accept",
        BW_METRICS_ADDR=addr,
        BW_HEALTH__FAILING_AFTER_S="2",
        BW_HEALTH__STALLED_AFTER_S="2",
        BW_HEALTH__HEARTBEAT_INTERVAL_S="0.5",
        BW_ELEVATORS__MAINTENANCE__ENABLED="false",
    )
    log = (tmp_path / f"{component}.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "brightwatch", "serve", "--components", component],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://{addr}", env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = None
        log.seek(0)
        tail = log.read()[-3000:]
        log.close()
        assert code == 0, f"serve exited with {code}:\n{tail}"


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None


def _healthz(base: str) -> tuple[int, dict] | None:
    r = _get(f"{base}/healthz")
    return (r.status_code, r.json()) if r is not None else None


def _status(seq: int) -> bytes:
    return status(seq, int(time.time() * 1000))


def _heartbeats(db_url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT component, replica, state FROM component_heartbeat ORDER BY 1"
        ).fetchall()


def test_ingest_process_serves_metrics_and_health(
    settings: Settings, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    root = settings.topic_root
    with serve(settings, "ingest", tmp_path) as (base, _):
        got = wait_until(
            lambda: (h := _healthz(base)) and h[0] == 200 and h, 60, 0.2, "ingest /healthz 200"
        )
        body = got[1]
        assert body["status"] == "ok" and body["db"] == "ok" and body["mqtt"] == "ok"
        assert body["components"] == {"ingest": "ok"}
        publish(broker.port, [(f"{root}/elevators/E-HEALTH-1/status", _status(1))])
        metrics = wait_until(
            lambda: (
                (r := _get(f"{base}/metrics"))
                and 'brightwatch_consumer_lag_seconds_count{component="ingest"} 1.0' in r.text
                and r.text
            ),
            30,
            0.2,
            "a committed batch in the consumer lag",
        )
        for family in (
            "brightwatch_component_last_good_timestamp_seconds",
            "brightwatch_component_backlog",
            "brightwatch_component_consecutive_failures",
            "brightwatch_component_stuck",
            "brightwatch_consumer_lag_seconds",
            "brightwatch_consumer_batches_total",
            "brightwatch_consumer_backlog",
            "brightwatch_ingest_rows_total",
        ):
            assert f"# TYPE {family} " in metrics, family
        assert 'brightwatch_component_stuck{component="ingest"} 0.0' in metrics
        assert _get(f"{base}/nope").status_code == 404

        # the API's /healthz shows the ingest process through its heartbeat
        wait_until(lambda: _heartbeats(settings.database_url.get_secret_value()), 10)
        api_settings = settings.model_copy(update={"instance": f"{settings.instance}-api"})
        with TestClient(create_app(build_runtime(api_settings))) as api:
            status, body = wait_until(
                lambda: (r := api.get("/healthz")).status_code == 200 and (200, r.json()),
                20,
                what="API /healthz 200",
            )
            assert body["components"] == {"ingest": "ok"}
            (replica,) = body["replicas"]
            assert replica["replica"] == f"{settings.instance}-ingest"
            assert replica["last_good_at"] is not None
    # a clean stop leaves no heartbeat to go silent
    assert _heartbeats(settings.database_url.get_secret_value()) == []


REFUSE = """
CREATE FUNCTION refuse_rule_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
END $$;
CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON elevator_rule_state
    FOR EACH ROW EXECUTE FUNCTION refuse_rule_state();
"""


def test_stuck_rules_worker_is_named_within_60_s(
    settings: Settings, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    db_url = settings.database_url.get_secret_value()
    root = settings.topic_root
    api_settings = settings.model_copy(update={"instance": f"{settings.instance}-api"})
    with (
        serve(settings, "elevators", tmp_path) as (base, env),
        TestClient(create_app(build_runtime(api_settings))) as api,
    ):
        wait_until(lambda: (h := _healthz(base)) and h[0] == 200, 60, 0.2, "rules /healthz 200")
        with psycopg.connect(db_url) as conn:
            conn.execute(REFUSE)  # the disk is full: every batch fails, retried without end
        publish(broker.port, [(f"{root}/elevators/E-STUCK-1/status", _status(1))])
        started = time.monotonic()

        status, body = wait_until(
            lambda: (h := _healthz(base)) and h[0] == 503 and h, 60, 0.2, "rules /healthz 503"
        )
        assert body["components"]["elevators"] == "stuck", body
        assert "elevators stuck" in body["detail"] and "consecutive failures" in body["detail"]
        assert body["db"] == "ok" and body["mqtt"] == "ok"  # the process is up, its work is not

        status, body = wait_until(
            lambda: (r := api.get("/healthz")).status_code == 503 and (503, r.json()),
            60,
            0.2,
            "API /healthz 503",
        )
        seen_after = time.monotonic() - started
        assert body["components"]["elevators"] == "stuck" and "elevators stuck" in body["detail"]
        assert seen_after < 60, seen_after
        assert api.get("/healthz", params={"scope": "process"}).status_code == 200
        # the container health check of compose.yaml: `brightwatch healthcheck` with the
        # process's environment reads /healthz on its BW_METRICS_ADDR
        check = subprocess.run(
            [sys.executable, "-m", "brightwatch", "healthcheck"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 1 and "http: 503" in check.stderr, check.stderr
        assert "elevators stuck" in check.stderr
        metrics = _get(f"{base}/metrics").text
        assert 'brightwatch_component_stuck{component="elevators"} 1.0' in metrics

        # the database takes the writes again: the retried batch goes through
        with psycopg.connect(db_url) as conn:
            conn.execute("DROP TRIGGER refuse ON elevator_rule_state")
        wait_until(lambda: (h := _healthz(base)) and h[0] == 200, 30, 0.2, "rules /healthz 200")
        wait_until(lambda: api.get("/healthz").status_code == 200, 10, 0.2, "API /healthz 200")
        metrics = _get(f"{base}/metrics").text
        assert "brightwatch_rules_evaluation_seconds_count" in metrics
        assert 'brightwatch_consumer_lag_seconds_count{component="elevators"} 1.0' in metrics
    print(f"stuck rules worker named by the API's /healthz {seen_after:.1f} s after its batch")
