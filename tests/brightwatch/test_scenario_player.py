"""The scenario player's parts: the schedule, the clip decks the cameras play, the clips
themselves (the motion gate must keep sending them, the rat's boxes must stay on the
rat), and `brightwatch demo scenario NAME` over a real broker."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from brightwatch.edge.camera import gate
from brightwatch.edge.camera.scenes import KitchenScene
from brightwatch.edge.camera.source import SceneCapture
from brightwatch.edge.settings import CameraSettings
from brightwatch.embedded import EmbeddedBroker
from brightwatch.mqttlink.client import parse_mqtt_url
from brightwatch.scenario.elevators import Mailboxes
from brightwatch.scenario.kitchens import (
    ClipCapture,
    ClipDeck,
    ClipDetections,
    ClipFrame,
    ClipMaker,
    ClipUnavailable,
    no_mask_clip,
    phone_clip,
    rodent_clip,
)
from brightwatch.scenario.player import OPENING, SCENARIOS, Player, Targets, inject, schedule
from brightwatch.vision.detector.base import Detection
from tests.conftest import shared_path

BACKGROUND = KitchenScene("static", seed=1).background


def _solid(value: int, *objects: Detection) -> ClipFrame:
    return ClipFrame(np.full_like(BACKGROUND, value), objects)


def test_the_schedule_opens_with_a_trapped_passenger_then_keeps_a_fixed_order() -> None:
    first = list(itertools.islice(schedule(180.0), 20))
    assert first[0] == (0.0, "trapped")
    assert [name for _, name in first[: len(OPENING)]] == [name for _, name in OPENING]
    times = [at for at, _ in first]
    assert times == sorted(times) and all(b - a <= 180.0 for a, b in itertools.pairwise(times))
    assert {name for _, name in first} == set(SCENARIOS)  # every scenario comes round
    assert first == list(itertools.islice(schedule(180.0), 20))  # no chance involved


def test_a_deck_plays_its_clips_in_order_then_the_scene_again() -> None:
    deck = ClipDeck(BACKGROUND)
    rat = Detection("rat", 0.9, (1.0, 2.0, 30.0, 40.0))
    deck.queue("a", lambda bg: iter([_solid(10), _solid(20, rat)]))
    deck.queue("b", lambda bg: iter([_solid(30)]))
    capture = ClipCapture(SceneCapture(KitchenScene("static", seed=1), 1.0), deck)
    detector = ClipDetections(deck)
    seen = []
    for _ in range(5):
        frame = capture.read()
        assert frame is not None
        seen.append((int(frame.image[0, 0, 0]), detector.detect(frame.image)))
    assert [v for v, _ in seen[:3]] == [10, 20, 30]
    assert seen[1][1] == [rat] and seen[0][1] == [] and seen[2][1] == []
    assert seen[3][1] == [] and seen[4][1] == []  # the scene: no detections
    assert deck.played == ["a", "b"]


def _sent_by_gate(frames: list[np.ndarray]) -> int:
    """How many of `frames` the camera's motion gate would send once it has absorbed the
    clip's first picture standing still (the appearance of a picture alone would pass
    the gate for a while: the slide must keep it passing)."""
    settings = CameraSettings()
    state = gate.GateState()
    for _ in range(60):
        state, _ = gate.step(state, gate.small_grey(frames[0], settings), 0, settings)
    sent = 0
    for k, image in enumerate(frames):
        state, decision = gate.step(state, gate.small_grey(image, settings), k * 1000, settings)
        sent += decision.motion
    return sent


@pytest.mark.parametrize("make", [no_mask_clip, phone_clip], ids=["no_mask", "phone"])
def test_picture_clips_keep_the_motion_gate_sending(make: Callable[[float], ClipMaker]) -> None:
    shared_path("datasets", "face_mask")
    frames = [f.image for f in make(1.0)(BACKGROUND)]
    assert len(frames) >= 10  # several seconds at 1 fps: NO_MASK needs 3 frames over 3 s
    assert all(f.shape == BACKGROUND.shape for f in frames)
    assert _sent_by_gate(frames) >= 0.8 * len(frames)


def test_the_rodent_clip_carries_the_rats_boxes_inside_the_frame() -> None:
    shared_path("media", "video")
    frames = list(rodent_clip(1.0)(BACKGROUND))
    assert 25 <= len(frames) <= 40  # the 33 s video at 1 fps
    with_rat = [f for f in frames if f.objects]
    assert len(with_rat) >= 0.5 * len(frames)
    h, w = BACKGROUND.shape[:2]
    for f in with_rat:
        for d in f.objects:
            x1, y1, x2, y2 = d.box
            assert d.label == "rat" and 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h


def test_missing_material_says_so(tmp_path: Path) -> None:
    with pytest.raises(ClipUnavailable):
        no_mask_clip(1.0, root=tmp_path)
    with pytest.raises(ClipUnavailable):
        rodent_clip(1.0, video=tmp_path / "rat.mp4", labels=tmp_path)


def _player(decks: dict[tuple[str, str], ClipDeck] | None = None) -> tuple[Player, Mailboxes]:
    mailboxes = Mailboxes(["E0", "E2"])
    targets = Targets(["E0", "E2"], {"rodent": ("K001", "cam2")})
    return Player(targets, mailboxes, decks or {}, 1.0), mailboxes


def test_elevator_scenarios_go_round_the_demo_firms_cars() -> None:
    player, mailboxes = _player()
    assert player.inject("trapped") == "elevator E0"
    assert player.inject("door") == "elevator E2"
    assert player.inject("power") == "elevator E0"
    assert [mailboxes.take("E0"), mailboxes.take("E0"), mailboxes.take("E2")] == [
        "trapped",
        "power",
        "door",
    ]
    with pytest.raises(KeyError):
        player.inject("earthquake")
    with pytest.raises(ClipUnavailable):
        player.inject("phone")  # no camera plays it here


def test_the_scenario_command_reaches_the_running_player(
    broker: EmbeddedBroker, topic_root: str
) -> None:
    shared_path("media", "video")
    deck = ClipDeck(BACKGROUND)
    player, mailboxes = _player({("K001", "cam2"): deck})
    address = parse_mqtt_url(broker.url, broker.protocol)
    stop = threading.Event()
    listener = threading.Thread(target=player.listen, args=(address, topic_root, stop))
    listener.start()
    try:
        ok, detail = False, ""
        for _ in range(3):  # the listener may still be subscribing
            ok, detail = inject(address, topic_root, "trapped", timeout_s=3.0)
            if ok:
                break
        assert ok, detail
        assert detail == "elevator E0" and mailboxes.take("E0") == "trapped"
        assert inject(address, topic_root, "rodent", timeout_s=5.0) == (
            True,
            "kitchen K001 camera cam2",
        )
        assert deck.next_frame() is not None and deck.played == ["rodent"]
        ok, detail = inject(address, topic_root, "earthquake", timeout_s=5.0)
        assert not ok and "no scenario" in detail
    finally:
        stop.set()
        listener.join(10)
    assert not listener.is_alive()
    ok, detail = inject(address, topic_root, "trapped", timeout_s=1.0)
    assert not ok and "no demo answered" in detail
