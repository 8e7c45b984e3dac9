"""`brightwatch demo`: the whole service on one machine with nothing configured.

Starts a private PostgreSQL and MQTT broker under BW_DATA_DIR/demo (unless
BW_DATABASE_URL / BW_MQTT_URL are set), migrates, registers a small city (maintenance
firms, buildings with elevators, kitchens with public cameras), creates an admin token,
runs every component in this process, simulated elevator terminals and kitchen camera
agents, prints the URLs, and stops everything cleanly on Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from datetime import date, timedelta
from pathlib import Path

import psycopg

from brightwatch.components import ComponentSet
from brightwatch.db.migrate import migrate
from brightwatch.demo_kitchens import simulate_kitchens
from brightwatch.edge.elevator_sim.agent import AgentConfig, ElevatorAgent
from brightwatch.edge.elevator_sim.model import CarSpec, fleet_spec
from brightwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from brightwatch.registry import store
from brightwatch.registry.models import (
    CameraRecord,
    ElevatorRecord,
    FirmRecord,
    OpeningHours,
    SiteRecord,
    Zone,
)
from brightwatch.runtime import broker_of
from brightwatch.settings import Settings, load_settings
from brightwatch.wiring import build_runtime

log = logging.getLogger("brightwatch.demo")

COMPONENTS = ["ingest", "elevators", "vision", "alerts", "api"]
ALL_DAY = [OpeningHours(days="daily", open="00:00", close="24:00")]

# (firm_id, name, credit rating, credit score)
FIRMS = [
    ("F-SZLIFT", "Shenzhen Lift Care Co.", "A", 92.0),
    ("F-NANSHAN", "Nanshan Elevator Service", "B", 81.0),
    ("F-STANDBY", "City Standby Rescue Team", "A", 95.0),
]
DISTRICTS = ["Futian", "Nanshan", "Luohu"]
KITCHEN_NAMES = ["Canteen No. 3 Primary School", "Lao Wang Noodles", "Central Kitchen Co."]


ELEVATOR_ID_PREFIX = "3110440300"  # ids look like 20-character registration codes (设备注册代码)
SEED = 7


def fleet(count: int) -> list[CarSpec]:
    """The simulated cars; the registry is written from the same specs, so the rules know
    each car's real floors and rated speed."""
    config = AgentConfig(count=count, id_prefix=ELEVATOR_ID_PREFIX, seed=SEED)
    return [fleet_spec(config.elevator_id(i), i, SEED) for i in range(count)]


def seed_registry(conn: psycopg.Connection, elevators: int, kitchens: int) -> dict[str, list[str]]:
    for firm_id, name, rating, score in FIRMS:
        store.upsert_firm(
            conn, firm_id, FirmRecord(name=name, credit_rating=rating, credit_score=score)
        )
    buildings = []
    for i in range(max(1, elevators // 10)):
        site_id = f"B{i + 1:03d}"
        store.upsert_site(
            conn,
            site_id,
            SiteRecord(
                kind="building",
                name=f"Tower {i + 1}",
                operator=f"Property Management {i % 4 + 1}",
                address=f"{100 + i} Shennan Road",
                district=DISTRICTS[i % len(DISTRICTS)],
                management_score=85,
            ),
        )
        buildings.append((site_id, f"{100 + i} Shennan Road"))
    cars = fleet(elevators)
    for i, car in enumerate(cars):
        store.upsert_elevator(
            conn,
            car.elevator_id,
            ElevatorRecord(
                firm_id=FIRMS[i % 2][0],
                standby_firm_id=FIRMS[2][0],
                site_id=buildings[i % len(buildings)][0],
                address=buildings[i % len(buildings)][1],
                district=DISTRICTS[i % len(DISTRICTS)],
                user_unit=f"Property Management {i % 4 + 1}",
                floor_min=car.floor_min,
                floor_max=car.floor_max,
                rated_speed=car.rated_speed,
                install_year=2004 + i % 20,
                inspection_valid_until=date.today() + timedelta(days=200),
                thresholds={
                    "floor_height_m": car.floor_height,
                    "acceleration_m_s2": car.acceleration,
                },
            ),
        )
    ids = [car.elevator_id for car in cars]
    sites = []
    for k in range(kitchens):
        site_id = f"K{k + 1:03d}"
        store.upsert_site(
            conn,
            site_id,
            SiteRecord(
                kind="kitchen",
                name=KITCHEN_NAMES[k % len(KITCHEN_NAMES)],
                operator=KITCHEN_NAMES[k % len(KITCHEN_NAMES)],
                address=f"{20 + k} Huaqiang North Road",
                district=DISTRICTS[k % len(DISTRICTS)],
                operating_hours=ALL_DAY,
                management_score=90,
            ),
        )
        store.upsert_camera(
            conn,
            site_id,
            "cam1",
            CameraRecord(
                name="Cooking line",
                work_area="cooking",
                is_public=True,
                zones=[
                    Zone(
                        name="stove",
                        kind="stove",
                        polygon=[(0.0, 0.4), (0.5, 0.4), (0.5, 1.0), (0.0, 1.0)],
                    )
                ],
            ),
        )
        sites.append(site_id)
    return {"elevators": ids, "kitchens": sites, "firms": [f[0] for f in FIRMS]}


def _port_free(host: str, port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def simulate_elevators(
    settings: Settings, registry: dict[str, list[str]], stop: threading.Event
) -> None:
    """The registered elevators' terminals, in real time, through their own spool."""
    broker = broker_of(settings)
    agent = ElevatorAgent(
        AgentConfig(
            count=len(registry["elevators"]),
            topic_root=settings.topic_root,
            data_dir=Path(settings.data_dir) / "demo",
            id_prefix=ELEVATOR_ID_PREFIX,
            seed=SEED,
            spool_capacity=settings.edge.spool_max_messages,
        ),
        broker,
    )
    agent.run(stop)


# simulators started beside the components, each run(settings, registry, stop) in a thread
Simulator = Callable[[Settings, dict[str, list[str]], threading.Event], None]
SIMULATORS: dict[str, Simulator] = {"elevators": simulate_elevators, "kitchens": simulate_kitchens}


def run_demo(elevators: int = 50, kitchens: int = 3) -> int:
    from brightwatch.cli import stop_on_signals
    from brightwatch.logs import setup_logging

    base = load_settings()
    setup_logging(base.log_level, base.log_format)
    if not _port_free(base.http_host, base.http_port):
        log.error(
            "%s is already in use: stop what listens there or set BW_HTTP_ADDR", base.http_addr
        )
        return 1
    demo_dir = Path(base.data_dir) / "demo"
    overrides: dict[str, object] = {"unknown_devices": "accept", "instance": "demo"}
    with ExitStack() as stack:
        if "BW_DATABASE_URL" not in os.environ:
            pg = EmbeddedPostgres(demo_dir / "postgres")
            log.info("starting embedded PostgreSQL (%s) ...", pg.bin_dir)
            pg.start()
            stack.callback(pg.stop)
            overrides["database_url"] = pg.create_database("brightwatch")
        if "BW_MQTT_URL" not in os.environ:
            broker = EmbeddedBroker(demo_dir / "mqtt")
            log.info("starting embedded MQTT broker (%s) ...", broker.kind)
            broker.start()
            stack.callback(broker.stop)
            overrides["mqtt_url"] = broker.url
            overrides["mqtt_protocol"] = broker.protocol
        settings = load_settings(**overrides)
        database_url = settings.database_url.get_secret_value()
        flavor, applied = migrate(database_url)
        log.info("schema ready (%s, %d migrations applied)", flavor, len(applied))
        from brightwatch.api.auth import create_token

        with psycopg.connect(database_url) as conn:
            registry = seed_registry(conn, elevators, kitchens)
            _, admin_token = create_token(conn, "admin", name="demo admin")
            _, firm_token = create_token(conn, "firm", firm_id=FIRMS[0][0], name="demo firm")
            _, operator_token = create_token(
                conn, "operator", site_id=registry["kitchens"][0], name="demo operator"
            )

        runtime = build_runtime(settings)
        components = ComponentSet(runtime, COMPONENTS)
        with stop_on_signals(components.stop):
            components.start()
            sim_threads = []
            for name, simulate in SIMULATORS.items():
                t = threading.Thread(
                    target=simulate,
                    args=(settings, registry, components.stop),
                    name=f"bw-sim-{name}",
                    daemon=True,
                )
                t.start()
                sim_threads.append(t)
            _announce(settings, registry, admin_token, firm_token, operator_token)
            components.wait()
            for t in sim_threads:
                t.join(10)
        components.shutdown()
        if components.failed:
            log.error("demo stopped because %s failed", ", ".join(components.failed))
            return 1
    return 0


def _announce(
    settings: Settings, registry: dict[str, list[str]], admin: str, firm: str, operator: str
) -> None:
    url = f"http://{settings.http_addr}"
    first_kitchen = registry["kitchens"][0] if registry["kitchens"] else "K001"
    time.sleep(0.5)
    print(
        f"""
brightwatch demo is running ({len(registry["elevators"])} simulated elevators, {len(registry["kitchens"])} kitchens)

  console          {url}/
  public kitchen   {url}/public/kitchens/{first_kitchen}
  API docs         {url}/docs
  elevators        {url}/api/v1/elevators   (Authorization: Bearer <admin token>)
  health, metrics  {url}/healthz  {url}/metrics

  admin token      {admin}
  firm token       {firm}   (firm {FIRMS[0][0]})
  operator token   {operator}   (kitchen {first_kitchen})

Press Ctrl-C to stop.
""",
        flush=True,
    )
