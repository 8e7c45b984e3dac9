"""Camera agent: motion gating CPU (quality.md: a static scene costs < 5 % of a busy one,
CPU seconds per camera-minute).

    python -m bench.camera [--minutes 3] [--fps 1] [--width 1280] [--rounds 3]

Two scenes of the same length at the same sampling rate, rendered first (not measured)
as MJPEG videos with one frame per sample (a camera stream sampled at the agent's rate):
`static` (a kitchen with sensor noise, nobody moving) and `busy` (a cook moving in every
frame). The background is a kitchen photo of ../shared/media/kitchen, or a drawn kitchen
when ../shared is absent. For each scene, the whole agent in central-inference mode runs
against a private mosquitto: decode, gate, JPEG encode, spool, MQTT QoS 1 publish
(driven as fast as it goes, with a simulated clock, until the spool is empty); then what
it sent is inferred as the server would (JPEG decode + the default detector `coco`, ONNX
Runtime, one thread, so spinning worker threads do not inflate CPU time). Cost = process
CPU time (`time.process_time`, all threads), not wall time. Scenes alternate round by
round; the median round counts. Without the COCO model the inference part is skipped and
said so. Prints one summary line; figures go to bench/out/camera.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from brightwatch.edge.camera.agent import CameraAgent, CameraConfig
from brightwatch.edge.camera.scenes import KitchenScene
from brightwatch.edge.camera.source import FrameSource, SourceSpec
from brightwatch.edge.settings import CameraSettings
from brightwatch.embedded import EmbeddedBroker
from brightwatch.mqttlink.client import BrokerAddress
from brightwatch.vision.detector import Detector, DetectorError, load_detector

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO.parent / "shared" / "media" / "kitchen" / "kavyakhurana_difficult_image_01.jpeg"
OUT = REPO / "bench" / "out"
SCENES = ("static", "busy")

log = logging.getLogger("bench.camera")


def render(activity: str, path: Path, count: int, fps: float, width: int) -> Path:
    background = cv2.imread(str(PHOTO)) if PHOTO.exists() else None
    scene = KitchenScene(activity, width=width, background=background, seed=1)  # type: ignore[arg-type]
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (scene.width, scene.height)
    )
    for k in range(count):
        writer.write(scene.frame(k / fps))
    writer.release()
    return path


def decode_only(video: Path, fps: float) -> float:
    """CPU seconds to read the frames alone (what any gate has to pay first)."""
    source = FrameSource(SourceSpec("file", str(video)), fps, loop=False)
    t0 = time.process_time()
    while source.read() is not None:
        pass
    spent = time.process_time() - t0
    source.close()
    return spent


def run_agent(
    video: Path, broker: EmbeddedBroker, data_dir: Path, fps: float, count: int
) -> tuple[float, list[bytes], dict[str, int]]:
    """CPU seconds of the agent for the whole video, and the frames it sent."""
    clock = [1_763_800_000.0]
    agent = CameraAgent(
        CameraConfig(
            site_id="K001",
            camera_id=f"bench{uuid.uuid4().hex[:6]}",
            topic_root="bench",
            data_dir=data_dir,
            settings=CameraSettings(fps=fps),
        ),
        BrokerAddress("127.0.0.1", broker.port, protocol=broker.protocol),
        FrameSource(SourceSpec("file", str(video)), fps, loop=False),
        clock=lambda: clock[0],
    )
    sent: list[bytes] = []
    process = agent.pipeline.process

    def keeping(frame: Any, ts_ms: int) -> Any:
        rows = process(frame, ts_ms)
        sent.extend(r.payload for r in rows if r.topic.endswith("/frame"))
        return rows

    agent.pipeline.process = keeping  # type: ignore[method-assign]
    agent.start()
    if not agent.link.connected.wait(10):
        raise RuntimeError("the agent did not connect to the bench broker")
    t0 = time.process_time()
    for _ in range(count):
        agent.sample()
        clock[0] += 1 / fps
    deadline = time.monotonic() + 60
    while len(agent.spool) and time.monotonic() < deadline:
        time.sleep(0.005)
    spent = time.process_time() - t0
    agent.stop()
    c = agent.counters
    counters = {
        "sampled": c.sampled,
        "motion": c.motion,
        "keepalives": c.keepalives,
        "frames_sent": c.frames_sent,
    }
    return spent, sent, counters


def inference(payloads: list[bytes], detector: Detector | None) -> float:
    """CPU seconds the server spends on the frames: JPEG decode and detection."""
    if detector is None:
        return 0.0
    t0 = time.process_time()
    for payload in payloads:
        image = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_COLOR)
        detector.detect(image)
    return time.process_time() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="camera-minutes per scene")
    parser.add_argument("--fps", type=float, default=1.0, help="sampling rate")
    parser.add_argument("--width", type=int, default=1280, help="frame width of the stream")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    count = round(args.minutes * 60 * args.fps)
    try:
        detector: Detector | None = load_detector("coco", threads=1)
    except DetectorError as exc:
        print(f"note: no COCO model ({exc}); inference not measured")
        detector = None
    if detector is not None:
        detector.detect(KitchenScene("static", width=args.width).frame(0))  # warm-up
    with tempfile.TemporaryDirectory(prefix="bw-bench-camera-") as tmp:
        tmp_path = Path(tmp)
        videos = {s: render(s, tmp_path / f"{s}.avi", count, args.fps, args.width) for s in SCENES}
        broker = EmbeddedBroker(tmp_path / "mqtt")
        broker.start()
        rounds: dict[str, list[dict[str, Any]]] = {s: [] for s in SCENES}
        try:
            for r in range(args.rounds):
                for scene in SCENES if r % 2 == 0 else SCENES[::-1]:
                    decode = decode_only(videos[scene], args.fps)
                    agent_cpu, sent, counters = run_agent(
                        videos[scene], broker, tmp_path / f"{scene}{r}", args.fps, count
                    )
                    infer_cpu = inference(sent, detector)
                    rounds[scene].append(
                        {
                            "decode_s": decode,
                            "agent_s": agent_cpu,
                            "inference_s": infer_cpu,
                            "total_s": agent_cpu + infer_cpu,
                            **counters,
                        }
                    )
        finally:
            broker.stop()
    result: dict[str, Any] = {
        "minutes": args.minutes,
        "fps": args.fps,
        "width": args.width,
        "rounds": args.rounds,
        "model": f"{detector.name}@{detector.version}" if detector else None,
        "background": PHOTO.name if PHOTO.exists() else "drawn",
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }
    per_minute: dict[str, dict[str, float]] = {}
    for scene, runs in rounds.items():
        ordered = sorted(runs, key=lambda x: x["total_s"])
        mid = ordered[len(ordered) // 2]
        result[scene] = {"median_round": mid, "rounds": runs}
        per_minute[scene] = {
            k: mid[k] / args.minutes for k in ("decode_s", "agent_s", "inference_s", "total_s")
        }
    result["cpu_s_per_camera_minute"] = per_minute
    ratio = per_minute["static"]["total_s"] / per_minute["busy"]["total_s"]
    result["ratio_static_to_busy"] = ratio
    beyond_decode = (per_minute["static"]["total_s"] - per_minute["static"]["decode_s"]) / (
        per_minute["busy"]["total_s"] - per_minute["busy"]["decode_s"]
    )
    result["ratio_beyond_decode"] = beyond_decode
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "camera.json").write_text(json.dumps(result, indent=1))
    s, b = per_minute["static"], per_minute["busy"]
    print(
        f"camera gating: static {s['total_s']:.3f} CPU s/camera-min "
        f"(decode {s['decode_s']:.3f}) vs busy {b['total_s']:.3f} "
        f"(inference {b['inference_s']:.3f}): ratio {ratio:.1%} (bar < 5 %), "
        f"{beyond_decode:.1%} beyond decoding; frames sent "
        f"{result['static']['median_round']['frames_sent']} vs "
        f"{result['busy']['median_round']['frames_sent']} of {count}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
