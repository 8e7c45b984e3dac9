"""`brightwatch demo`: the whole service on one machine with nothing configured.

Starts a private PostgreSQL and MQTT broker under BW_DATA_DIR/demo (unless
BW_DATABASE_URL / BW_MQTT_URL are set), migrates, registers a small Shenzhen (three
maintenance firms, buildings with elevators over Futian, Nanshan and Luohu, kitchens
with public cameras, each with its maintenance history), creates tokens, runs every
component in this process, the simulated elevator terminals and kitchen cameras, and
the scenario player (`brightwatch.scenario`; off with `--quiet`), prints the URLs and
the command that injects a scenario, and stops everything cleanly on Ctrl-C.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from brightwatch.components import ComponentSet
from brightwatch.db.migrate import migrate
from brightwatch.demo_kitchens import (
    DEMO_CAMERA,
    STOREROOM_CAMERA,
    kitchen_cameras,
    run_cameras,
    simulate_kitchens,
)
from brightwatch.edge.elevator_sim.agent import AgentConfig, ElevatorAgent
from brightwatch.edge.elevator_sim.model import CarSpec, fleet_spec
from brightwatch.embedded import (
    EmbeddedBroker,
    EmbeddedError,
    EmbeddedPostgres,
    claim,
    wait_for_port,
)
from brightwatch.logs import redact
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
from brightwatch.scenario.elevators import Mailboxes, attach_mailboxes
from brightwatch.scenario.kitchens import SHARED
from brightwatch.scenario.player import CONFIRMED_CODE, CONTROL, Player, Targets, confirm_first
from brightwatch.settings import Settings, load_settings, local_host
from brightwatch.stopping import join_within
from brightwatch.wiring import build_runtime

log = logging.getLogger("brightwatch.demo")

COMPONENTS = ["ingest", "elevators", "vision", "alerts", "api"]
ALL_DAY = [OpeningHours(days="daily", open="00:00", close="24:00")]

# (firm_id, name, credit rating, credit score); the first is the demo firm (its token)
FIRMS = [
    ("F-SZLIFT", "深圳市安佳电梯维保有限公司", "A", 92.0),
    ("F-NANSHAN", "深圳市南山顺达电梯工程有限公司", "B", 81.0),
    ("F-STANDBY", "深圳市特种设备应急救援中心", "A", 95.0),
]
DISTRICTS = ["福田区", "南山区", "罗湖区"]
# (district, building, address): spread over the three districts, in turn
BUILDINGS = [
    ("福田区", "福华商务中心", "深圳市福田区福华三路88号"),
    ("南山区", "科苑创新大厦", "深圳市南山区科苑南路3099号"),
    ("罗湖区", "东门商业大楼", "深圳市罗湖区东门中路2008号"),
    ("福田区", "景田小区3栋", "深圳市福田区景田北路27号"),
    ("南山区", "蛇口海湾花园", "深圳市南山区工业八路156号"),
    ("罗湖区", "翠竹苑住宅楼", "深圳市罗湖区翠竹路1069号"),
    ("福田区", "梅林一村12栋", "深圳市福田区梅林路48号"),
    ("南山区", "西丽湖公寓", "深圳市南山区沙河西路4011号"),
    ("罗湖区", "笋岗物流大厦", "深圳市罗湖区宝安北路3008号"),
    ("福田区", "车公庙泰然大厦", "深圳市福田区泰然九路12号"),
    ("南山区", "前海港湾大厦", "深圳市南山区桂湾五路128号"),
    ("罗湖区", "莲塘社区服务中心", "深圳市罗湖区罗沙路2077号"),
]
PROPERTY_MANAGERS = [
    "深圳市福华物业管理有限公司",
    "深圳市南粤物业服务有限公司",
    "深圳市罗湖城建物业管理有限公司",
    "深圳市鹏安物业管理有限公司",
]
# (name, operator, district, address)
KITCHENS = [
    ("福田区红荔小学食堂", "深圳市福田区红荔小学", "福田区", "深圳市福田区红荔路2010号"),
    ("老王牛肉面馆", "南山区老王牛肉面馆（个体工商户）", "南山区", "深圳市南山区南新路1130号"),
    ("鹏城中央厨房", "深圳市鹏城中央厨房有限公司", "罗湖区", "深圳市罗湖区布心路3018号"),
]
# 半月维保 (TSG T5002: every 15 days): the last routine maintenance of elevator i was
# (i * 7) % 13 + 1 days ago (7 and 13 coprime: 1 to 13 days, evenly), so on the 15-day
# round the due dates spread over the next 2 to 14 days instead of falling on one day,
# and none is overdue at the start (a ticket already past its SLA looks like a bug); the
# last quarterly one (i * 11) % 80 + 1 days ago
ROUTINE_DAYS, QUARTER_DAYS = 13, 80

ELEVATOR_ID_PREFIX = "3110440300"  # ids look like 20-character registration codes (设备注册代码)
SEED = 7
HISTORY_ACTOR = "demo-history"
STAGE_STOP_S = 15.0  # the simulators and the player, together, after Ctrl-C


def fleet(count: int) -> list[CarSpec]:
    """The simulated cars; the registry is written from the same specs, so the rules know
    each car's real floors and rated speed."""
    config = AgentConfig(count=count, id_prefix=ELEVATOR_ID_PREFIX, seed=SEED)
    return [fleet_spec(config.elevator_id(i), i, SEED) for i in range(count)]


def _buildings(conn: psycopg.Connection, elevators: int) -> list[tuple[str, str, str, str]]:
    """(site_id, district, address, property manager) of the buildings used."""
    count = max(1, min(len(BUILDINGS), elevators // 4))
    out = []
    for i in range(count):
        district, name, address = BUILDINGS[i]
        manager = PROPERTY_MANAGERS[i % len(PROPERTY_MANAGERS)]
        site_id = f"B{i + 1:03d}"
        store.upsert_site(
            conn,
            site_id,
            SiteRecord(
                kind="building",
                name=name,
                operator=manager,
                address=address,
                district=district,
                management_score=85,
            ),
        )
        out.append((site_id, district, address, manager))
    return out


def _kitchens(conn: psycopg.Connection, kitchens: int) -> list[str]:
    sites = []
    for k in range(kitchens):
        name, operator, district, address = KITCHENS[k % len(KITCHENS)]
        site_id = f"K{k + 1:03d}"
        store.upsert_site(
            conn,
            site_id,
            SiteRecord(
                kind="kitchen",
                name=name if k < len(KITCHENS) else f"{name}{k + 1}",
                operator=operator,
                address=address,
                district=district,
                operating_hours=ALL_DAY,
                management_score=90,
            ),
        )
        store.upsert_camera(
            conn,
            site_id,
            DEMO_CAMERA,
            CameraRecord(
                name="烹饪区",
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
    if sites:  # the storeroom camera of the first kitchen (the rodent clip)
        store.upsert_camera(
            conn, sites[0], STOREROOM_CAMERA, CameraRecord(name="后仓", work_area="storage")
        )
    return sites


def seed_registry(conn: psycopg.Connection, elevators: int, kitchens: int) -> dict[str, list[str]]:
    for firm_id, name, rating, score in FIRMS:
        store.upsert_firm(
            conn, firm_id, FirmRecord(name=name, credit_rating=rating, credit_score=score)
        )
    buildings = _buildings(conn, elevators)
    cars = fleet(elevators)
    for i, car in enumerate(cars):
        site_id, district, address, manager = buildings[i % len(buildings)]
        store.upsert_elevator(
            conn,
            car.elevator_id,
            ElevatorRecord(
                firm_id=FIRMS[i % 2][0],
                standby_firm_id=FIRMS[2][0],
                site_id=site_id,
                address=f"{address} {i // len(buildings) + 1}号梯",
                district=district,
                user_unit=manager,
                floor_min=car.floor_min,
                floor_max=car.floor_max,
                rated_speed=car.rated_speed,
                install_year=2004 + i % 20,
                inspection_valid_until=date.today() + timedelta(days=60 + (i * 37) % 300),
                thresholds={
                    "floor_height_m": car.floor_height,
                    "acceleration_m_s2": car.acceleration,
                },
            ),
        )
    ids = [car.elevator_id for car in cars]
    seed_maintenance_history(conn, ids, datetime.now(UTC))
    sites = _kitchens(conn, kitchens)
    return {"elevators": ids, "kitchens": sites, "firms": [f[0] for f in FIRMS]}


def seed_maintenance_history(
    conn: psycopg.Connection, elevator_ids: list[str], now: datetime
) -> int:
    """One completed routine (`on_demand`) and one quarterly maintenance per elevator,
    on staggered days, so the planner's due dates spread over the cycle. Only for an
    elevator without tickets of that type (a restarted demo keeps its history)."""
    added = 0
    for i, elevator_id in enumerate(elevator_ids):
        firm_id = FIRMS[i % 2][0]
        for kind, days_ago in (
            ("on_demand", (i * 7) % ROUTINE_DAYS + 1),
            ("quarterly", (i * 11) % QUARTER_DAYS + 1),
        ):
            done = (now - timedelta(days=days_ago)).replace(hour=10, minute=0, second=0)
            cur = conn.execute(
                "INSERT INTO ticket (type, state, elevator_id, firm_id, trigger, due_at,"
                " created_at, updated_at, dispatched_at, accepted_at, accepted_by, arrived_at,"
                " arrival_proof, completed_at, completed_by, verified_at, verified_by,"
                " closed_at, result, notes)"
                " SELECT %(kind)s, 'verified', %(eid)s, %(firm)s, 'DUE_DATE', %(done)s,"
                " %(created)s, %(done)s, %(created)s, %(created)s, %(actor)s, %(done)s,"
                " 'check_in', %(done)s, %(actor)s, %(done)s, %(actor)s, %(done)s, 'done',"
                " '演示数据：历史维保记录'"
                " WHERE NOT EXISTS (SELECT 1 FROM ticket WHERE elevator_id = %(eid)s"
                " AND type = %(kind)s)",
                {
                    "kind": kind,
                    "eid": elevator_id,
                    "firm": firm_id,
                    "done": done,
                    "created": done - timedelta(hours=3),
                    "actor": HISTORY_ACTOR,
                },
            )
            added += cur.rowcount
    return added


def _port_free(host: str, port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


API_READY_WITHIN_S = 30.0


def _wait_for_api(settings: Settings) -> None:
    """The banner gives the API's URL and tokens: print it once the API accepts connections
    (its server starts on a thread of its own), not while a click on the URL is refused."""
    try:
        wait_for_port(settings.http_port, API_READY_WITHIN_S, local_host(settings.http_host))
    except TimeoutError:
        log.warning(
            "the API does not accept connections on %s after %.0f s",
            settings.http_addr,
            API_READY_WITHIN_S,
        )


def elevator_agent(settings: Settings, registry: dict[str, list[str]]) -> ElevatorAgent:
    """The registered elevators' terminals, in real time, through their own spool."""
    return ElevatorAgent(
        AgentConfig(
            count=len(registry["elevators"]),
            topic_root=settings.topic_root,
            data_dir=Path(settings.data_dir) / "demo",
            id_prefix=ELEVATOR_ID_PREFIX,
            seed=SEED,
            spool_capacity=settings.edge.spool_max_messages,
        ),
        broker_of(settings),
    )


def simulate_elevators(
    settings: Settings, registry: dict[str, list[str]], stop: threading.Event
) -> None:
    """The registered elevators' terminals, without a scenario player."""
    elevator_agent(settings, registry).run(stop)


# simulators started beside the components, each run(settings, registry, stop) in a thread
Simulator = Callable[[Settings, dict[str, list[str]], threading.Event], None]
SIMULATORS: dict[str, Simulator] = {"elevators": simulate_elevators, "kitchens": simulate_kitchens}


@dataclass
class Stage:
    """The simulators and the scenario player of one demo, as threads to start."""

    player: Player
    threads: list[threading.Thread]


def build_stage(
    settings: Settings, registry: dict[str, list[str]], stop: threading.Event, quiet: bool
) -> Stage:
    """The elevator terminals (each car with its scenario mailbox), the kitchen cameras
    (each with its clip deck) and the player: its schedule unless `quiet`, and its
    control topic always (`brightwatch demo scenario NAME` works in a quiet demo too)."""
    agent = elevator_agent(settings, registry)
    mailboxes: Mailboxes = attach_mailboxes(agent, SEED)
    cameras, decks = kitchen_cameras(settings, registry["kitchens"])
    kitchens = registry["kitchens"]
    targets = Targets(
        elevators=[e for i, e in enumerate(registry["elevators"]) if i % 2 == 0],  # demo firm
        kitchens={
            "no_mask": (kitchens[0], DEMO_CAMERA),
            "phone": (kitchens[1 % len(kitchens)], DEMO_CAMERA),
            "rodent": (kitchens[0], STOREROOM_CAMERA),
        }
        if kitchens
        else {},
    )
    player = Player(targets, mailboxes, decks, settings.edge.camera.fps)
    if not quiet:
        # the first scenario (a trapped passenger) waits in its car's mailbox before the
        # car boots, so it starts at once
        player.inject("trapped")
    runs: list[tuple[str, Callable[[], None]]] = [
        ("bw-sim-elevators", lambda: agent.run(stop)),
        ("bw-sim-kitchens", lambda: run_cameras(cameras, stop)),
        (
            "bw-scenario-control",
            lambda: player.listen(broker_of(settings), settings.topic_root, stop),
        ),
    ]
    if not quiet:
        runs.append(("bw-scenario-player", lambda: player.play(stop, skip_first=True)))
    threads = [threading.Thread(target=run, name=name, daemon=True) for name, run in runs]
    return Stage(player, threads)


def _private_servers(stack: ExitStack, demo_dir: Path) -> dict[str, object]:
    """The demo's own PostgreSQL and MQTT broker under `demo_dir` (unless BW_DATABASE_URL or
    BW_MQTT_URL name others), stopped when `stack` closes; the settings that reach them.
    The folder is this demo's while it runs (`embedded.claim`); servers a previous demo
    left running when it ended at once are stopped first."""
    overrides: dict[str, object] = {}
    owner = claim(demo_dir)  # waits for a previous demo still stopping; refuses a live one
    stack.callback(owner.unlink, missing_ok=True)
    if "BW_DATABASE_URL" not in os.environ:
        pg = EmbeddedPostgres(demo_dir / "postgres")
        pg.stop_orphan()  # left by a demo that ended at once (a second Ctrl-C)
        log.info("starting embedded PostgreSQL (%s) ...", pg.bin_dir)
        pg.start()
        stack.callback(pg.stop)
        overrides["database_url"] = pg.create_database("brightwatch")
    if "BW_MQTT_URL" not in os.environ:
        broker = EmbeddedBroker(demo_dir / "mqtt")
        broker.stop_orphan()
        log.info("starting embedded MQTT broker (%s) ...", broker.kind)
        broker.start()
        stack.callback(broker.stop)
        overrides["mqtt_url"] = broker.url
        overrides["mqtt_protocol"] = broker.protocol
    return overrides


def run_demo(elevators: int = 50, kitchens: int = 3, quiet: bool = False) -> int:
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
        try:
            overrides.update(_private_servers(stack, demo_dir))
        except EmbeddedError as exc:
            log.error("%s", exc)
            return 1
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
            stage = build_stage(settings, registry, components.stop, quiet)
            for t in stage.threads:
                t.start()
            if not quiet and registry["kitchens"]:
                confirmer = threading.Thread(
                    target=confirm_first,
                    args=(
                        f"http://{settings.http_addr}",
                        admin_token,
                        CONFIRMED_CODE,
                        components.stop,
                    ),
                    name="bw-scenario-review",
                    daemon=True,
                )
                confirmer.start()
            _write_state(demo_dir, settings)
            stack.callback((demo_dir / STATE_FILE).unlink, missing_ok=True)
            _wait_for_api(settings)
            _announce(settings, registry, admin_token, firm_token, operator_token, quiet)
            components.wait()
            late = join_within(stage.threads, STAGE_STOP_S)
            if late:
                log.warning("%s did not stop within %.0f s", ", ".join(late), STAGE_STOP_S)
        components.shutdown()
        if components.failed:
            log.error("demo stopped because %s failed", ", ".join(components.failed))
            return 1
    return 0


STATE_FILE = "demo.json"


def _write_state(demo_dir: Path, settings: Settings) -> None:
    """Where the running demo's broker is, for `brightwatch demo scenario` (no password
    is written: a broker with credentials needs --mqtt-url)."""
    url = settings.mqtt_url.get_secret_value()
    state = {
        "mqtt_url": url if redact(url) == url else None,
        "mqtt_protocol": settings.mqtt_protocol,
        "topic_root": settings.topic_root,
        "http": f"http://{settings.http_addr}",
        "pid": os.getpid(),
    }
    demo_dir.mkdir(parents=True, exist_ok=True)
    (demo_dir / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")


def read_state(data_dir: Path) -> dict[str, object] | None:
    """The state a running demo wrote under `data_dir`, if any."""
    path = data_dir / "demo" / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _face_model_note(settings: Settings) -> str:
    from brightwatch.vision.privacy import PrivacyUnavailable, find_face_model

    try:
        find_face_model(None, Path(settings.data_dir))
    except PrivacyUnavailable:
        return (
            "NOT SHOWN: the face model that blurs faces is not installed; run "
            "`brightwatch models install` (make demo does)"
        )
    return "blurred (privacy filter)"


def _announce(
    settings: Settings,
    registry: dict[str, list[str]],
    admin: str,
    firm: str,
    operator: str,
    quiet: bool,
) -> None:
    url = f"http://{settings.http_addr}"
    first_kitchen = registry["kitchens"][0] if registry["kitchens"] else "K001"
    mqtt_url = redact(settings.mqtt_url.get_secret_value())
    root = settings.topic_root
    root_opt = f" --topic-root {root}" if root != "bw" else ""
    host_port = mqtt_url.split("://", 1)[-1].rsplit("@", 1)[-1]
    host, _, port = host_port.partition(":")
    player = (
        "off (--quiet); inject one with the command below"
        if quiet
        else "on: a trapped passenger now, a rat, an unmasked cook and a phone call in the "
        "first minute, then one scenario every 3 min"
    )
    shared = "" if SHARED.is_dir() else f"\n  kitchen clips    off: {SHARED} not found"
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

  database         {redact(settings.database_url.get_secret_value())}
  MQTT broker      {mqtt_url}   (topic root {root})
  public pictures  {_face_model_note(settings)}
  scenarios        {player}{shared}
  inject one       brightwatch demo scenario trapped{root_opt}   (or door, overspeed, safety, power, no_mask, phone, rodent)
  watch alerts     mosquitto_sub -h {host} -p {port or 1883} -t '{root}/alerts/#' -v
  control topic    {root}/{CONTROL}

Press Ctrl-C to stop.
""",
        flush=True,
    )
