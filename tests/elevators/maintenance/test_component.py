"""The scheduler inside the running `elevators` component: a newly registered elevator
gets its plan, and a P2 fault the rules worker raises from a real MQTT message
recomputes it (alert reactor -> maintenance_trigger -> scheduler)."""

from __future__ import annotations

import json
import time

import psycopg

from brightwatch.components import ComponentSet
from brightwatch.elevators.maintenance.settings import MaintenanceSettings
from brightwatch.embedded import EmbeddedBroker
from brightwatch.settings import Settings
from brightwatch.wiring import build_runtime
from tests.support.mqtt import publish
from tests.support.waiting import wait_until

EID = "31010900000000000091"


def test_component_plans_and_recomputes_on_a_fault(
    settings: Settings, broker: EmbeddedBroker
) -> None:
    fast = settings.model_copy(
        update={
            "elevators": settings.elevators.model_copy(
                update={"maintenance": MaintenanceSettings(poll_s=0.2)}
            )
        }
    )
    url = settings.database_url.get_secret_value()
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO firm (firm_id, credit_rating, credit_score) VALUES ('F1', 'A', 95)"
        )
        conn.execute(
            "INSERT INTO elevator (elevator_id, firm_id, install_year) VALUES (%s, 'F1', 2020)",
            (EID,),
        )

    def reasons() -> list[str]:
        with psycopg.connect(url) as conn:
            return [
                r[0]
                for r in conn.execute(
                    "SELECT reason FROM maintenance_plan WHERE elevator_id = %s ORDER BY id", (EID,)
                ).fetchall()
            ]

    runtime = build_runtime(fast)
    components = ComponentSet(runtime, ["elevators"])
    components.start()
    try:
        wait_until(lambda: reasons() == ["daily"], 30, what="the first plan")
        wait_until(
            lambda: runtime.health.get("mqtt-rules", lambda: False)(), 20, what="rules subscribed"
        )
        now = round(time.time() * 1000)
        event = {"ts": now, "seq": 1, "code": "SAFETY_CIRCUIT", "state": "raise"}
        publish(
            broker.port, [(f"{fast.topic_root}/elevators/{EID}/event", json.dumps(event).encode())]
        )
        wait_until(lambda: reasons() == ["daily", "SAFETY_CIRCUIT"], 30, what="the recomputation")
    finally:
        components.shutdown()
    assert not components.failed
