"""Motion gating on synthetic frames: a static scene sends only keep-alives, motion sends
frames, and each threshold decides where it says."""

from __future__ import annotations

import numpy as np
import pytest

from brightwatch.edge.camera import gate
from brightwatch.edge.camera.scenes import KitchenScene
from brightwatch.edge.settings import CameraSettings

SETTINGS = CameraSettings(keepalive_s=30)


def run(frames: list[np.ndarray], settings: CameraSettings = SETTINGS, fps: float = 1.0):
    """Gate the frames at `fps`, marking each frame it passes as sent (central mode)."""
    state = gate.GateState()
    decisions = []
    for k, frame in enumerate(frames):
        now_ms = round(k * 1000 / fps)
        state, decision = gate.step(state, gate.small_grey(frame, settings), now_ms, settings)
        if decision.send:
            state = gate.sent(state, now_ms, settings)
        decisions.append(decision)
    return decisions


def scene_frames(activity: str, seconds: int, fps: float = 1.0) -> list[np.ndarray]:
    scene = KitchenScene(activity, seed=1)  # type: ignore[arg-type]
    return [scene.frame(k / fps) for k in range(round(seconds * fps))]


def test_static_scene_sends_only_keepalives() -> None:
    decisions = run(scene_frames("static", 125))
    sent = [k for k, d in enumerate(decisions) if d.send]
    assert sent == [0, 30, 60, 90, 120]
    assert not any(d.motion for d in decisions)
    assert all(d.keepalive for d in decisions if d.send)


def test_busy_scene_sends_every_frame_with_motion() -> None:
    decisions = run(scene_frames("busy", 60))
    assert all(d.motion for d in decisions[1:])
    assert all(d.send for d in decisions)


def test_kitchen_bursts_send_while_the_cook_moves_and_keepalives_between() -> None:
    scene = KitchenScene("kitchen", seed=1)
    frames = [scene.frame(k) for k in range(120)]
    decisions = run(frames)
    for k, d in enumerate(decisions[1:], start=1):
        present = scene.cook_at(k) is not None
        if present and scene.cook_at(k - 1) is not None:
            assert d.motion, f"second {k}: the cook moves"
    # the last seconds of each quiet 40 s: the cook's departure is absorbed, nothing moves
    quiet = [d for k, d in enumerate(decisions) if 45 <= k % 60 < 60]
    assert quiet and not any(d.motion for d in quiet)
    keepalives = [k for k, d in enumerate(decisions) if d.send and not d.motion]
    assert keepalives and all(b - a >= 30 for a, b in zip(keepalives, keepalives[1:], strict=False))


def test_a_small_object_counts_only_above_the_area_threshold() -> None:
    base = np.full((360, 640, 3), 120, np.uint8)
    moved = base.copy()
    moved[100:140, 300:340] = 250  # 40x40 of 640x360: about 0.7 % of the picture
    loose = CameraSettings(changed_ratio=0.002)
    strict = CameraSettings(changed_ratio=0.02)
    assert run([base, moved], loose)[1].motion
    assert not run([base, moved], strict)[1].motion


def test_pixel_threshold_ignores_faint_changes() -> None:
    base = np.full((360, 640, 3), 120, np.uint8)
    faint = base.copy()
    faint[:, :320] = 130  # half the picture, 10 grey levels brighter
    assert not run([base, faint], CameraSettings(pixel_threshold=15, mean_diff=50))[1].motion
    assert run([base, faint], CameraSettings(pixel_threshold=5, mean_diff=50))[1].motion


def test_global_change_counts_through_the_mean_difference() -> None:
    base = np.full((360, 640, 3), 100, np.uint8)
    lit = np.full((360, 640, 3), 116, np.uint8)  # lights on: everything 16 levels brighter
    # no pixel passes a high pixel threshold: only the mean difference can see it
    d = run([base, lit], CameraSettings(pixel_threshold=40, mean_diff=12))[1]
    assert d.motion and d.changed == 0 and d.mean_diff == pytest.approx(16, abs=0.5)
    assert not run([base, lit], CameraSettings(pixel_threshold=40, mean_diff=20))[1].motion


def test_sensor_noise_is_not_motion() -> None:
    rng = np.random.default_rng(3)
    base = KitchenScene("static", noise=0).frame(0).astype(np.int16)
    frames = [
        np.clip(base + rng.integers(-8, 9, base.shape), 0, 255).astype(np.uint8) for _ in range(20)
    ]
    assert not any(d.motion for d in run(frames))


def test_a_change_that_stays_is_absorbed_by_the_background() -> None:
    base = np.full((360, 640, 3), 120, np.uint8)
    pot = base.copy()
    pot[200:300, 200:330] = 30  # a pot put down, then left there
    decisions = run([base] + [pot] * 60)
    assert decisions[1].motion
    first_still = next(k for k, d in enumerate(decisions[1:], start=1) if not d.motion)
    assert 2 < first_still < 60
    assert not any(d.motion for d in decisions[first_still:])


def test_keepalive_deadline_counts_from_the_last_frame_sent() -> None:
    s = CameraSettings(keepalive_s=10)
    still = np.full((90, 160, 3), 90, np.uint8)
    state, first = gate.step(gate.GateState(), gate.small_grey(still, s), 0, s)
    assert first.keepalive and not first.motion  # nothing sent yet: the first frame goes
    state = gate.sent(state, 0, s)
    state, d = gate.step(state, gate.small_grey(still, s), 9_999, s)
    assert not d.send
    # a frame sent at 5 s (motion elsewhere) moves the deadline; one not sent does not
    state = gate.sent(state, 5_000, s)
    state, d = gate.step(state, gate.small_grey(still, s), 14_999, s)
    assert not d.send
    state, d = gate.step(state, gate.small_grey(still, s), 15_000, s)
    assert d.keepalive and d.send


def test_a_new_frame_size_restarts_the_background() -> None:
    s = CameraSettings()
    state, _ = gate.step(
        gate.GateState(), gate.small_grey(np.zeros((90, 160, 3), np.uint8), s), 0, s
    )
    state = gate.sent(state, 0, s)
    state, d = gate.step(state, gate.small_grey(np.zeros((100, 100, 3), np.uint8), s), 1000, s)
    assert not d.send and state.background is not None and state.background.shape[1] == 96


def test_step_leaves_the_previous_state_alone() -> None:
    s = CameraSettings()
    a = np.full((90, 160, 3), 10, np.uint8)
    b = np.full((90, 160, 3), 200, np.uint8)
    s1, _ = gate.step(gate.GateState(), gate.small_grey(a, s), 0, s)
    before = s1.background.copy()  # type: ignore[union-attr]
    gate.step(s1, gate.small_grey(b, s), 1000, s)
    assert np.array_equal(s1.background, before)  # type: ignore[arg-type]
