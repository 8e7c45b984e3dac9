"""The camera agent on a real mosquitto: frames with their capture time, keep-alives of a
static scene, edge detections, the spool through a broker outage, availability and will."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from brightwatch.contract.payloads import Detections, decode_device_json
from brightwatch.edge.camera.scenes import KitchenScene
from brightwatch.edge.settings import CameraSettings
from brightwatch.embedded import EmbeddedBroker
from brightwatch.vision.detector import load_detector
from tests.conftest import shared_path
from tests.edge.camera_support import (
    FakeClock,
    decode_jpeg,
    make_agent,
    on,
    sample,
    write_video,
)
from tests.support.mqtt import Collector
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_busy_scene_frames_arrive_with_their_capture_time(
    broker: EmbeddedBroker, tmp_path: Path, root: str, protocol: str
) -> None:
    clock = FakeClock()
    settings = CameraSettings(max_width=320, jpeg_quality=70)
    with Collector(broker.port, [f"{root}/#"]) as sub:
        agent = make_agent(
            broker.port, root, tmp_path, "busy", protocol=protocol, settings=settings, clock=clock
        )
        agent.start()
        sent = sample(agent, 8, clock)
        agent.stop()
        assert sent == 8 == agent.counters.frames_sent  # the first as keep-alive, then motion
        wait_until(lambda: len(on(sub, "frame")) >= 8, 10, what="8 frames")
        frames = on(sub, "frame")
        assert len(frames) == 8
        assert {m.topic for m in frames} == {f"{root}/kitchens/K001/cameras/cam1/frame"}
        image = decode_jpeg(frames[0].payload)
        assert image.shape == (180, 320, 3)  # 640x360 scaled to max_width
        start_ms = round(FakeClock().now * 1000)
        if protocol == "5":
            assert [int(m.properties["ts"]) for m in frames] == [
                start_ms + 1000 * k for k in range(8)
            ]
        else:  # MQTT 3.1.1 has no user properties: the service takes the receive time
            assert all("ts" not in m.properties for m in frames)
        wait_until(lambda: len(on(sub, "availability")) >= 2, 10, what="online, offline")
        assert [m.payload for m in on(sub, "availability")] == [b"online", b"offline"]
        assert not on(sub, "detections")


def test_static_scene_sends_only_keepalives(
    broker: EmbeddedBroker, tmp_path: Path, root: str
) -> None:
    clock = FakeClock()
    with Collector(broker.port, [f"{root}/+/+/cameras/+/frame"]) as sub:
        agent = make_agent(
            broker.port,
            root,
            tmp_path,
            "static",
            clock=clock,
            settings=CameraSettings(keepalive_s=20),
        )
        agent.start()
        sample(agent, 65, clock)  # 65 s of a still kitchen at 1 fps
        agent.stop()
        c = agent.counters
        assert (c.sampled, c.motion, c.keepalives, c.frames_sent) == (65, 0, 4, 4)
        wait_until(lambda: len(sub.messages) >= 4, 10, what="keep-alive frames")
        start_ms = round(FakeClock().now * 1000)
        assert [int(m.properties["ts"]) - start_ms for m in sub.messages] == [
            0,
            20_000,
            40_000,
            60_000,
        ]
        # marked as keep-alives through the spool (no sub-stream: the main picture)
        assert [m.properties.get("keepalive") for m in sub.messages] == ["main"] * 4


def labelled_video(tmp_path: Path, fps: float = 1.0) -> tuple[Path, Path]:
    """25 frames (at `fps`): still for 5, a cook moving for 10, still again for 10; YOLO
    labels say `person` on frames 6-10 and `bowl` on 11-14 (not a class of interest)."""
    still = KitchenScene("static", seed=2)
    busy = KitchenScene("busy", seed=2)
    frames = [still.frame(t) for t in range(5)]
    frames += [busy.frame(t) for t in range(5, 15)]
    frames += [still.frame(t) for t in range(15, 25)]
    video = write_video(tmp_path / "kitchen.avi", frames, fps)
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "classes.txt").write_text("person\nbowl\n")
    for t in range(25):
        line = ""
        if 6 <= t <= 10:
            line = "0 0.5 0.6 0.1 0.4\n"
        elif 11 <= t <= 14:
            line = "1 0.3 0.7 0.05 0.05\n"
        (labels / f"frame_{t:04d}.txt").write_text(line)
    return video, labels


def test_edge_detection_sends_evidence_and_detections_only_when_something_is_found(
    broker: EmbeddedBroker, tmp_path: Path, root: str
) -> None:
    video, labels = labelled_video(tmp_path)
    detector = load_detector(str(labels))
    clock = FakeClock()
    settings = CameraSettings(keepalive_s=60, max_width=320, detect_labels=["person", "rat"])
    with Collector(broker.port, [f"{root}/#"]) as sub:
        agent = make_agent(
            broker.port,
            root,
            tmp_path,
            str(video),
            settings=settings,
            detector=detector,
            clock=clock,
        )
        agent.start()
        sample(agent, 30, clock)  # the file ends after 25 samples
        agent.stop()
        c = agent.counters
        assert agent.source.ended
        assert c.inferences == c.motion >= 9  # the detector ran on motion frames only
        assert c.detections_sent == 5  # seconds 6..10: person; 11..14: a bowl is no interest
        assert c.keepalives == 1  # the first frame; nothing else without motion for 60 s
        wait_until(lambda: len(on(sub, "detections")) >= 5, 10, what="detections")
        wait_until(lambda: len(on(sub, "frame")) >= 6, 10, what="frames")
        start_ms = round(FakeClock().now * 1000)
        now = datetime.fromtimestamp(start_ms / 1000 + 60, UTC)
        decoded = [decode_device_json(m.payload, Detections, now) for m in on(sub, "detections")]
        assert [d.message.seq for d in decoded] == [0, 1, 2, 3, 4]
        assert [d.message.ts - start_ms for d in decoded] == [k * 1000 for k in range(6, 11)]  # type: ignore[operator]
        first = json.loads(on(sub, "detections")[0].payload)
        assert first["model"] == f"labels@{detector.version}"
        assert (first["width"], first["height"]) == (320, 180)
        (obj,) = first["objects"]
        assert obj["label"] == "person" and obj["score"] == 1.0
        assert obj["box"] == pytest.approx(
            [144.0, 72.0, 176.0, 144.0], abs=0.6
        )  # in the sent frame
        # each detections message follows its evidence frame, paired by ts and seq
        order = [(m.topic.rsplit("/", 1)[1], m.properties.get("seq")) for m in sub.messages]
        order = [o for o in order if o[0] in ("frame", "detections")]
        assert order[0] == ("frame", None)  # the keep-alive
        evidence = [m for m in on(sub, "frame") if "seq" in m.properties]
        assert [int(m.properties["seq"]) for m in evidence] == [0, 1, 2, 3, 4]
        assert [m.properties["ts"] for m in evidence] == [str(d.message.ts) for d in decoded]
        for k in range(5):
            i = order.index(("frame", str(k)))
            assert order[i + 1] == ("detections", None)
        assert decode_jpeg(evidence[0].payload).shape == (180, 320, 3)


def test_edge_detection_with_the_coco_model(
    broker: EmbeddedBroker, tmp_path: Path, root: str
) -> None:
    """The shipped COCO detector at the edge on a real picture (people) after an empty
    one, so the gate sees motion."""
    model = shared_path("models", "coco", "yolo11n_int8_320.onnx")
    import cv2

    people = cv2.imread(str(shared_path("media", "zidane.jpg")))
    empty = np.full_like(people, 128)
    detector = load_detector(str(model))
    clock = FakeClock()
    with Collector(broker.port, [f"{root}/+/+/cameras/+/detections"]) as sub:
        agent = make_agent(
            broker.port, root, tmp_path, [empty, people, empty], detector=detector, clock=clock
        )
        agent.start()
        sample(agent, 3, clock)
        agent.stop()
        # back to the empty picture is back to the background: no motion, no inference
        assert agent.counters.inferences == 1 and agent.counters.detections_sent == 1
        wait_until(lambda: sub.messages, 10, what="detections")
        body = json.loads(sub.messages[0].payload)
        assert body["seq"] == 0 and body["model"].startswith("yolo11n_int8_320@")
        assert (body["width"], body["height"]) == (1280, 720)
        assert sum(o["label"] == "person" for o in body["objects"]) >= 2


def test_outage_is_spooled_and_replayed_in_order(tmp_path: Path, root: str) -> None:
    broker = EmbeddedBroker(tmp_path / "mqtt")
    broker.start()
    clock = FakeClock()
    try:
        with Collector(broker.port, [f"{root}/#"], session_expiry_s=600) as sub:
            agent = make_agent(broker.port, root, tmp_path, "busy", clock=clock)
            agent.start()
            sample(agent, 5, clock)
            wait_until(lambda: len(on(sub, "frame")) >= 5, 10, what="frames before the cut")
            broker.stop()
            wait_until(lambda: not agent.link.connected.is_set(), 10, what="the cut")
            sample(agent, 600, clock)  # quality.md: 10 min of a busy kitchen, broker away
            assert len(agent.spool) >= 600
            broker.start()
            wait_until(lambda: len(agent.spool) == 0, 30, what="the spool to replay")
            sample(agent, 5, clock)
            agent.stop()
            wait_until(lambda: len(on(sub, "frame")) >= 610, 60, what="all frames")
            ts = [int(m.properties["ts"]) for m in on(sub, "frame")]
            # QoS 1: a frame in flight at the cut may come twice
            first_seen = list(dict.fromkeys(ts))
            start_ms = round(FakeClock().now * 1000)
            assert first_seen == [start_ms + 1000 * k for k in range(610)]
            assert len(ts) - len(first_seen) <= agent.link.in_flight_at_cuts
            # online again after the reconnection, offline on the clean stop
            avail = [m.payload for m in on(sub, "availability")]
            assert avail[0] == b"online" and avail[-1] == b"offline"
            assert avail.count(b"online") >= 2
    finally:
        broker.stop()


def test_spool_survives_a_restart_of_the_agent(
    broker: EmbeddedBroker, tmp_path: Path, root: str
) -> None:
    """Stopped while the broker is unreachable, the next start sends what was kept."""
    clock = FakeClock()
    away = make_agent(1, root, tmp_path, "busy", clock=clock)  # port 1: nothing listens
    away.start()
    sample(away, 6, clock)
    away.stop(drain_s=0.2)
    with Collector(broker.port, [f"{root}/+/+/cameras/+/frame"]) as sub:
        back = make_agent(broker.port, root, tmp_path, "static", clock=clock)
        back.start()
        wait_until(lambda: len(sub.messages) >= 6, 20, what="the kept frames")
        sample(back, 1, clock)
        back.stop()
        wait_until(lambda: len(sub.messages) >= 7, 10, what="the new keep-alive")
        start_ms = round(FakeClock().now * 1000)
        assert [int(m.properties["ts"]) - start_ms for m in sub.messages] == [
            k * 1000 for k in range(7)
        ]


def _cli_env(broker: EmbeddedBroker, root: str, tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("BW_")},
        "BW_MQTT_URL": broker.url,
        "BW_MQTT_PROTOCOL": broker.protocol,
        "BW_TOPIC_ROOT": root,
        "BW_DATA_DIR": str(tmp_path),
    }


def test_killed_agent_leaves_its_will(broker: EmbeddedBroker, tmp_path: Path, root: str) -> None:
    cmd = [sys.executable, "-m", "brightwatch", "edge", "camera", "--site", "K001"]
    cmd += ["--camera", "cam1", "--source", "synthetic:busy", "--fps", "5"]
    with Collector(broker.port, [f"{root}/#"]) as sub:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=_cli_env(broker, root, tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: len(on(sub, "frame")) >= 3, 30, what="frames from the CLI")
            assert [m.payload for m in on(sub, "availability")] == [b"online"]
            assert all("ts" in m.properties for m in on(sub, "frame"))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            wait_until(lambda: len(on(sub, "availability")) >= 2, 15, what="the will")
            assert [m.payload for m in on(sub, "availability")] == [b"online", b"offline"]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with Collector(broker.port, [f"{root}/+/+/cameras/+/availability"]) as late:
        wait_until(lambda: late.messages, 10, what="retained availability")
        assert [(m.payload, m.retain) for m in late.messages] == [(b"offline", True)]


def test_cli_detects_at_the_edge_and_stops_at_the_end_of_a_file(
    broker: EmbeddedBroker, tmp_path: Path, root: str
) -> None:
    video, labels = labelled_video(tmp_path, fps=25)
    cmd = [sys.executable, "-m", "brightwatch", "edge", "camera", "--site", "K001"]
    cmd += ["--camera", "cam3", "--source", str(video), "--fps", "25", "--detect"]
    cmd += ["--model", str(labels)]
    with Collector(broker.port, [f"{root}/+/+/cameras/+/+"]) as sub:
        out = subprocess.run(
            cmd, cwd=REPO, env=_cli_env(broker, root, tmp_path), capture_output=True, timeout=60
        )
        assert out.returncode == 0, out.stderr.decode()[-2000:]
        wait_until(lambda: len(on(sub, "detections")) >= 5, 10, what="detections")
        assert [json.loads(m.payload)["seq"] for m in on(sub, "detections")] == [0, 1, 2, 3, 4]
        assert [m.payload for m in on(sub, "availability")] == [b"online", b"offline"]
    assert b"5 detections sent" in out.stderr


def test_cli_stops_cleanly_on_sigint(broker: EmbeddedBroker, tmp_path: Path, root: str) -> None:
    cmd = [sys.executable, "-m", "brightwatch", "edge", "camera", "--site", "K001"]
    cmd += ["--camera", "cam2", "--source", "synthetic:static", "--fps", "2"]
    with Collector(broker.port, [f"{root}/+/+/cameras/+/+"]) as sub:
        proc = subprocess.Popen(cmd, cwd=REPO, env=_cli_env(broker, root, tmp_path))
        try:
            wait_until(lambda: on(sub, "frame"), 30, what="the first keep-alive")
            time.sleep(1.0)  # a static scene: nothing more within the keep-alive interval
            assert len(on(sub, "frame")) == 1
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        wait_until(lambda: len(on(sub, "availability")) >= 2, 10, what="offline")
        assert [m.payload for m in on(sub, "availability")] == [b"online", b"offline"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/no/such/video.mp4", "no such file: /no/such/video.mp4"),
        ("ftp://cam.local/stream", "unsupported URL scheme 'ftp'"),
        ("synthetic:party", "unknown synthetic scene 'party'"),
        ("{tmp}", "is a folder, not a video or an image"),
        ("{tmp}/broken.mp4", "cannot be opened as a video"),
        ("{tmp}/broken.jpg", "cannot be read as an image"),
    ],
)
def test_cli_rejects_a_bad_source(tmp_path: Path, source: str, message: str) -> None:
    (tmp_path / "broken.mp4").write_text("not a video")
    (tmp_path / "broken.jpg").write_text("not a picture")
    source = source.replace("{tmp}", str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "brightwatch", "edge", "camera", "--site", "K1", "--camera", "c1"]
        + ["--source", source],
        cwd=REPO,
        env={**os.environ, "BW_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    assert "--source" in out.stderr and message.replace("{tmp}", str(tmp_path)) in out.stderr


def test_cli_rejects_a_bad_camera_id(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "brightwatch", "edge", "camera", "--site", "K 1", "--camera", "c1"]
        + ["--source", "synthetic:static"],
        cwd=REPO,
        env={**os.environ, "BW_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--site" in out.stderr and "[A-Za-z0-9_.-]" in out.stderr


@pytest.mark.parametrize(
    ("gate_source", "message"),
    [
        ("synthetic:busy", "a sub-stream must be a video file, a stream or a device"),
        ("/no/such/sub.mp4", "no such file: /no/such/sub.mp4"),
    ],
)
def test_cli_rejects_a_bad_gate_source(tmp_path: Path, gate_source: str, message: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "brightwatch", "edge", "camera", "--site", "K1", "--camera", "c1"]
        + ["--source", "rtsp://cam.local/main", "--gate-source", gate_source],
        cwd=REPO,
        env={**os.environ, "BW_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    assert "--gate-source" in out.stderr and message in out.stderr
