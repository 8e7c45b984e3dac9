"""The schedule of the demo's scenarios, and the control topic that injects one by name.

From the start of the demo: a trapped passenger in an elevator of the demo firm first
(its TRAPPED_OUT_ZONE alert, rescue ticket and SLA clock within about 30 s), a rat in
the first kitchen's storeroom, an unmasked cook on its public camera, a phone call in
the second kitchen; then one scenario every `interval_s` in a fixed rotation, elevator
faults going round the demo firm's elevators. The order never depends on chance, so two
demos show the same story.

`brightwatch demo scenario NAME` publishes `{"name": NAME, "id": ...}` on
`<root>/demo/scenario`; the running demo's player injects it and answers on
`<root>/demo/scenario/ack` (`inject` below is that command's side). Those topics are the
demo's own: no service component subscribes to them.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from brightwatch.mqttlink.client import BrokerAddress, make_client
from brightwatch.scenario.elevators import ELEVATOR_SCENARIOS, Mailboxes
from brightwatch.scenario.kitchens import KITCHEN_CLIPS, ClipDeck, ClipUnavailable

log = logging.getLogger("brightwatch.demo")

CONTROL = "demo/scenario"
ACK = "demo/scenario/ack"

# name -> what it shows (the log, `brightwatch demo scenario --help`)
SCENARIOS: dict[str, str] = {
    "trapped": "passengers trapped between floors, alarm pressed (TRAPPED_OUT_ZONE, rescue ticket)",
    "door": "doors stuck open at a landing for 150 s (DOOR_CLOSE_FAIL)",
    "overspeed": "an empty car at 112 % of rated speed (OVERSPEED)",
    "safety": "the safety circuit opens during a run (SAFETY_CIRCUIT)",
    "power": "mains lost for 90 s (POWER_FAIL)",
    "no_mask": "a cook without a mask on the public camera (NO_MASK)",
    "phone": "a phone call at work (PHONE)",
    "rodent": "a rat in the storeroom, as edge detections (RODENT)",
}
assert set(SCENARIOS) == set(ELEVATOR_SCENARIOS) | set(KITCHEN_CLIPS)

# (seconds after the start, scenario): the first minute
OPENING: tuple[tuple[float, str], ...] = (
    (0.0, "trapped"),
    (5.0, "rodent"),
    (15.0, "no_mask"),
    (45.0, "phone"),
)
ROTATION = ("door", "no_mask", "overspeed", "rodent", "safety", "phone", "power", "trapped")
INTERVAL_S = 180.0
# the one review the demo decides itself, so that a rectification case appears
CONFIRMED_CODE = "RODENT"
CONFIRM_NOTE = "演示：场景播放器代为确认 (demo: confirmed by the scenario player)"


def schedule(interval_s: float = INTERVAL_S) -> Iterator[tuple[float, str]]:
    """(when, scenario) in order, for ever: the opening, then the rotation."""
    yield from OPENING
    start = OPENING[-1][0]
    for k, name in enumerate(itertools.cycle(ROTATION), start=1):
        yield start + k * interval_s, name


@dataclass
class Targets:
    """Where each scenario plays: the demo firm's elevators in turn; per kitchen clip,
    the (site, camera) whose deck plays it."""

    elevators: list[str]
    kitchens: dict[str, tuple[str, str]]
    _turn: Iterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(self.elevators)

    def next_elevator(self) -> str:
        return next(self._turn)


class Player:
    """Injects scenarios into the running demo: elevator ones through the cars'
    mailboxes, kitchen ones through the cameras' clip decks."""

    def __init__(
        self,
        targets: Targets,
        mailboxes: Mailboxes,
        decks: dict[tuple[str, str], ClipDeck],
        fps: float,
    ) -> None:
        self.targets = targets
        self.mailboxes = mailboxes
        self.decks = decks
        self.fps = fps
        self.injected: list[str] = []
        self._lock = threading.Lock()  # the schedule and the control topic both inject

    def inject(self, name: str) -> str:
        """Start scenario `name`; returns where it plays. KeyError for an unknown name,
        ClipUnavailable when its material is missing."""
        if name not in SCENARIOS:
            raise KeyError(f"no scenario {name!r}; choose from {', '.join(SCENARIOS)}")
        with self._lock:
            if name in ELEVATOR_SCENARIOS:
                if not self.targets.elevators:
                    raise ClipUnavailable("no simulated elevator of the demo firm")
                where = self.targets.next_elevator()
                self.mailboxes.post(where, name)
                detail = f"elevator {where}"
            else:
                site_camera = self.targets.kitchens.get(name)
                deck = self.decks.get(site_camera) if site_camera else None
                if site_camera is None or deck is None:
                    raise ClipUnavailable(f"no simulated camera plays {name}")
                deck.queue(name, KITCHEN_CLIPS[name](self.fps))
                detail = f"kitchen {site_camera[0]} camera {site_camera[1]}"
            self.injected.append(name)
        log.info("scenario %s: %s on %s", name, SCENARIOS[name], detail)
        return detail

    def play(
        self, stop: threading.Event, interval_s: float = INTERVAL_S, skip_first: bool = False
    ) -> None:
        """The schedule, until `stop`; a scenario that cannot play is logged and skipped.
        `skip_first`: the opening's first scenario was injected already."""
        started = time.monotonic()
        for k, (at, name) in enumerate(schedule(interval_s)):
            if skip_first and k == 0:
                continue
            if stop.wait(max(0.0, at - (time.monotonic() - started))):
                return
            try:
                self.inject(name)
            except ClipUnavailable as exc:
                log.warning("scenario %s skipped: %s", name, exc)

    def listen(self, address: BrokerAddress, topic_root: str, stop: threading.Event) -> None:
        """Answer `brightwatch demo scenario NAME` on the control topic until `stop`."""
        client, connect_kwargs = make_client(address, f"demo-player-{uuid.uuid4().hex[:8]}")
        control = f"{topic_root}/{CONTROL}"

        def on_connect(c: mqtt.Client, *args: object) -> None:
            c.subscribe(control, qos=1)

        def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
            reply: dict[str, object]
            try:
                request = json.loads(msg.payload)
                reply = {"id": request.get("id"), "ok": True}
                reply["detail"] = self.inject(str(request.get("name")))
            except (ValueError, AttributeError) as exc:
                reply = {"id": None, "ok": False, "detail": f"bad request: {exc}"}
            except (KeyError, ClipUnavailable) as exc:
                reply["ok"], reply["detail"] = False, str(exc).strip("'\"")
            c.publish(f"{topic_root}/{ACK}", json.dumps(reply), qos=1)

        client.on_connect = on_connect
        client.on_message = on_message
        client.connect_async(address.host, address.port, **connect_kwargs)  # type: ignore[arg-type]
        client.loop_start()
        try:
            stop.wait()
        finally:
            client.disconnect()
            client.loop_stop()


def confirm_first(
    base_url: str, token: str, code: str, stop: threading.Event, within_s: float = 600.0
) -> int | None:
    """Confirm the first pending review of `code` through the HTTP API, as a supervisor
    would, so that a rectification case (notice, plan and fix deadlines) follows; the
    note says the demo did it. Gives up after `within_s`; returns the review id."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + within_s
    while not stop.wait(5.0) and time.monotonic() < deadline:
        try:
            page = httpx.get(
                f"{base_url}/api/v1/reviews", params={"state": "pending"}, headers=headers
            )
            found = [r for r in page.json().get("items", []) if r.get("code") == code]
            if not found:
                continue
            review_id = int(found[0]["id"])
            answer = httpx.post(
                f"{base_url}/api/v1/reviews/{review_id}",
                json={"decision": "confirm", "note": CONFIRM_NOTE},
                headers=headers,
            )
        except (httpx.HTTPError, ValueError) as exc:
            log.debug("review confirmation not yet: %s", exc)
            continue
        if answer.status_code == 200:
            log.info(
                "scenario: %s review %d confirmed, a rectification case opens", code, review_id
            )
            return review_id
        log.warning("scenario: confirming review %d: %s", review_id, answer.text[:200])
        return None
    return None


def inject(
    address: BrokerAddress, topic_root: str, name: str, timeout_s: float = 10.0
) -> tuple[bool, str]:
    """Ask the demo listening on `address` to play `name`: (ok, its answer). No answer
    within `timeout_s`: (False, why)."""
    answered = threading.Event()
    request_id = uuid.uuid4().hex
    reply: dict[str, object] = {}
    subscribed = threading.Event()

    def on_connect(c: mqtt.Client, *args: object) -> None:
        c.subscribe(f"{topic_root}/{ACK}", qos=1)

    def on_subscribe(c: mqtt.Client, *args: object) -> None:
        subscribed.set()

    def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        if isinstance(body, dict) and body.get("id") == request_id:
            reply.update(body)
            answered.set()

    client, connect_kwargs = make_client(address, f"demo-inject-{request_id[:8]}")
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    try:
        client.connect(address.host, address.port, **connect_kwargs)  # type: ignore[arg-type]
    except OSError as exc:
        return False, f"cannot reach the broker at {address.host}:{address.port}: {exc}"
    client.loop_start()
    try:
        if not subscribed.wait(timeout_s):
            return False, "the broker did not confirm the subscription"
        payload = json.dumps({"name": name, "id": request_id})
        client.publish(f"{topic_root}/{CONTROL}", payload, qos=1)
        if not answered.wait(timeout_s):
            return False, f"no demo answered on {topic_root}/{CONTROL} within {timeout_s:g} s"
        return bool(reply.get("ok")), str(reply.get("detail", ""))
    finally:
        client.disconnect()
        client.loop_stop()
