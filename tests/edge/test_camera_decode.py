"""Decoding less (issue 13): an MJPEG source gives the gate a reduced grey decode and is
decoded in full only for the frames sent; a sub-stream feeds the gate and the main stream
is decoded only for the frames sent, at the same scene time. A moving cook must still
open the gate on every path."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from brightwatch.edge.camera.agent import CameraConfig, CameraPipeline
from brightwatch.edge.camera.scenes import KitchenScene
from brightwatch.edge.camera.source import (
    FileCapture,
    Frame,
    FrameSource,
    SourceError,
    SourceSpec,
    with_gate,
)
from brightwatch.edge.settings import CameraSettings
from tests.edge.camera_support import write_video

SETTINGS = CameraSettings(keepalive_s=30)
SECONDS = 12


def scene_video(path: Path, activity: str, width: int, seconds: int = SECONDS) -> Path:
    scene = KitchenScene(activity, width=width, seed=1)  # type: ignore[arg-type]
    return write_video(path, [scene.frame(k) for k in range(seconds)], fps=1.0)


def numbered_video(path: Path, count: int, fps: float, size: tuple[int, int]) -> Path:
    """Frame k is a flat grey of level 10 * k."""
    w, h = size
    return write_video(path, [np.full((h, w, 3), 10 * k, np.uint8) for k in range(count)], fps)


def level(image: np.ndarray) -> int:
    return round(float(image.mean()) / 10)


def gate_all(
    spec: SourceSpec, settings: CameraSettings = SETTINGS
) -> tuple[CameraPipeline, list[Frame], int]:
    """Every frame of the source through the agent's pipeline (central mode); the frames
    and how many messages went out."""
    pipeline = CameraPipeline(CameraConfig("K001", "cam1", settings=settings))
    source = FrameSource(spec, 1.0, loop=False, gate_width=settings.gate_width)
    frames = []
    out = 0
    for k in range(100):  # bounded: the videos are SECONDS long
        frame = source.read()
        if frame is None:
            break
        frames.append(frame)
        out += len(pipeline.process(frame, 1_763_800_000_000 + 1000 * k))
    source.close()
    return pipeline, frames, out


def test_an_mjpeg_file_gives_the_gate_a_reduced_decode(tmp_path: Path) -> None:
    video = scene_video(tmp_path / "busy.avi", "busy", 1280, seconds=2)
    source = FrameSource(SourceSpec("file", str(video)), 1.0, loop=False, gate_width=96)
    frame = source.read()
    assert frame is not None and not frame.decoded
    assert frame.small is not None and frame.small.ndim == 2
    # 1280 / 8 = 160 >= 96: the cheapest DCT scaling that leaves the gate its width
    assert frame.small.shape == (90, 160)
    full = frame.image  # decoded now, once
    assert frame.decoded and full.shape == (720, 1280, 3)
    reference = cv2.VideoCapture(str(video)).read()[1]
    # FFmpeg's MJPEG decoder and libjpeg round differently: a grey level at most
    assert float(np.abs(full.astype(int) - reference.astype(int)).mean()) < 1.0
    # the reduced picture is the full one, smaller: same grey levels on average
    grey = cv2.resize(
        cv2.cvtColor(full, cv2.COLOR_BGR2GRAY), (160, 90), interpolation=cv2.INTER_AREA
    )
    assert float(np.abs(grey.astype(int) - frame.small.astype(int)).mean()) < 3.0
    source.close()


def test_a_narrow_mjpeg_file_is_not_reduced_below_the_gate_width(tmp_path: Path) -> None:
    video = scene_video(tmp_path / "s.avi", "static", 320, seconds=1)
    frame = FrameSource(SourceSpec("file", str(video)), 1.0, loop=False, gate_width=96).read()
    assert frame is not None and frame.small is not None
    assert frame.small.shape[1] == 160  # 320 / 2: 1/4 would leave 80 < 96


@pytest.mark.parametrize("activity", ["busy", "static"])
def test_reduced_decode_keeps_the_gate_decisions(tmp_path: Path, activity: str) -> None:
    """The same scene through the reduced decode and through full frames: a moving cook
    opens the gate on the same frames, a static scene only sends keep-alives, and only
    the frames sent are decoded in full."""
    video = scene_video(tmp_path / f"{activity}.avi", activity, 1280)
    reduced, frames, sent = gate_all(SourceSpec("file", str(video)))
    full = CameraPipeline(CameraConfig("K001", "cam1", settings=SETTINGS))
    for k, frame in enumerate(frames):
        full.process(Frame(frame.image, frame.index), 1_763_800_000_000 + 1000 * k)
    assert len(frames) == SECONDS
    if activity == "busy":
        assert reduced.counters.motion == SECONDS - 1  # every frame after the first
    else:
        assert reduced.counters.motion == 0 and reduced.counters.keepalives == 1
    assert reduced.counters.motion == full.counters.motion
    assert reduced.counters.frames_sent == full.counters.frames_sent == sent
    assert reduced.counters.decoded == sent  # nothing else was decoded in full


def test_a_sub_stream_feeds_the_gate_and_the_main_stream_the_frames_sent(tmp_path: Path) -> None:
    main = scene_video(tmp_path / "main.avi", "busy", 1280)
    sub = scene_video(tmp_path / "sub.avi", "busy", 320)
    spec = with_gate(SourceSpec("file", str(main)), SourceSpec("file", str(sub)))
    pipeline, frames, sent = gate_all(spec)
    assert len(frames) == SECONDS and pipeline.counters.motion == SECONDS - 1
    # the first frame (nothing to compare with yet) goes as a keep-alive, from the sub-stream
    assert sent == SECONDS and pipeline.counters.decoded == SECONDS - 1
    assert all(f.small is not None and f.small.shape[1] == 160 for f in frames)
    assert all(f.image.shape == (720, 1280, 3) for f in frames[1:])  # sent: the main stream's
    assert frames[0].sub is not None and frames[0].sub.image.shape == (180, 320, 3)


@pytest.mark.parametrize("keepalive_source", ["sub", "main"])
def test_a_static_sub_stream_leaves_the_main_stream_undecoded(
    tmp_path: Path, keepalive_source: str
) -> None:
    """A still scene sends only keep-alives: from the sub-stream's picture by default (the
    main stream never decoded), from the main stream's when `keepalive_source` says so."""
    main = scene_video(tmp_path / "main.avi", "static", 1280, seconds=SECONDS * 3)
    sub = scene_video(tmp_path / "sub.avi", "static", 320, seconds=SECONDS * 3)
    spec = with_gate(SourceSpec("file", str(main)), SourceSpec("file", str(sub)))
    settings = CameraSettings(keepalive_s=SECONDS, keepalive_source=keepalive_source)  # type: ignore[arg-type]
    pipeline = CameraPipeline(CameraConfig("K001", "cam1", settings=settings))
    source = FrameSource(spec, 1.0, loop=False)
    sent: list[tuple[int, bytes, tuple[tuple[str, str], ...]]] = []
    frames: list[Frame] = []
    for k in range(SECONDS * 3):
        frame = source.read()
        assert frame is not None and frame.sub is not None
        frames.append(frame)
        sent += [(k, o.payload, o.properties) for o in pipeline.process(frame, 1000 * k)]
    source.close()
    assert pipeline.counters.motion == 0
    assert [k for k, _, _ in sent] == [0, SECONDS, 2 * SECONDS]  # one every keepalive_s
    assert all(dict(props)["keepalive"] == keepalive_source for _, _, props in sent)
    width = {"sub": 320, "main": 1280}[keepalive_source]
    assert all(cv2.imdecode(np.frombuffer(p, np.uint8), 1).shape[1] == width for _, p, _ in sent)
    decoded = [k for k, f in enumerate(frames) if f.decoded]
    assert decoded == ([] if keepalive_source == "sub" else [0, SECONDS, 2 * SECONDS])
    assert pipeline.counters.decoded == len(decoded)


def test_a_keepalive_without_a_sub_stream_is_the_main_picture_marked_main() -> None:
    settings = CameraSettings(keepalive_s=30, keepalive_source="sub")
    pipeline = CameraPipeline(CameraConfig("K001", "cam1", settings=settings))
    frame = Frame(np.full((36, 64, 3), 50, np.uint8), 0)  # no sub-stream: `sub` is None
    (out,) = pipeline.process(frame, 0)
    assert dict(out.properties) == {"ts": "0", "keepalive": "main"}
    assert cv2.imdecode(np.frombuffer(out.payload, np.uint8), 1).shape == (36, 64, 3)


def test_a_motion_frame_is_the_main_picture_and_not_marked_keepalive(tmp_path: Path) -> None:
    main = scene_video(tmp_path / "main.avi", "busy", 1280, seconds=3)
    sub = scene_video(tmp_path / "sub.avi", "busy", 320, seconds=3)
    spec = with_gate(SourceSpec("file", str(main)), SourceSpec("file", str(sub)))
    pipeline = CameraPipeline(CameraConfig("K001", "cam1", settings=SETTINGS))
    source = FrameSource(spec, 1.0, loop=False)
    out = [o for k in range(3) for o in pipeline.process(source.read(), 1000 * k)]  # type: ignore[arg-type]
    source.close()
    assert [dict(o.properties).get("keepalive") for o in out] == ["sub", None, None]
    widths = [cv2.imdecode(np.frombuffer(o.payload, np.uint8), 1).shape[1] for o in out]
    assert widths == [320, 1280, 1280] and pipeline.counters.motion == 2


def test_decoders_run_on_the_threads_asked_for(tmp_path: Path) -> None:
    """`decode_threads` reaches FFmpeg (1 by default: the least CPU per frame); 0 leaves
    FFmpeg its own choice and asks for nothing."""
    from brightwatch.edge.camera.source import decode_params

    assert decode_params(False, 0) == []
    assert decode_params(False, 1) == [cv2.CAP_PROP_N_THREADS, 1]
    assert cv2.CAP_PROP_HW_ACCELERATION in decode_params(True, 0)
    video = tmp_path / "v.avi"  # MPEG-4 part 2: decoded by FFmpeg (MJPEG is kept compressed)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"mp4v"), 1.0, (64, 48))
    assert writer.isOpened()
    writer.write(np.full((48, 64, 3), 10, np.uint8))
    writer.release()
    for threads in (1, 2):
        capture = FileCapture(str(video), 1.0, threads=threads)
        assert capture.capture.get(cv2.CAP_PROP_N_THREADS) == threads
        frame = capture.read()
        assert frame is not None and level(frame.image) == 1
        capture.close()


def test_the_main_frame_is_taken_at_the_sub_stream_s_time(tmp_path: Path) -> None:
    """Main stream at 10 fps, sub-stream at 5 fps, sampled at 1 fps: sample k shows the
    main stream's frame at k seconds, whichever frames were decoded before."""
    main = numbered_video(tmp_path / "main.avi", 25, 10, (64, 48))
    sub = numbered_video(tmp_path / "sub.avi", 13, 5, (32, 24))
    spec = with_gate(SourceSpec("file", str(main)), SourceSpec("file", str(sub)))
    source = FrameSource(spec, 1.0, loop=False)
    frames = [source.read() for _ in range(3)]
    assert [f.index for f in frames if f is not None] == [0, 10, 20]
    assert frames[2] is not None and level(frames[2].image) == 20  # frame 10 never decoded
    assert frames[0] is not None and level(frames[0].image) == 0  # backwards: a seek
    assert frames[1] is not None and level(frames[1].gate_view()) == 5  # the sub-stream's
    source.close()


def test_a_sub_stream_must_be_a_video(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(SourceError, match="sub-stream"):
        with_gate(SourceSpec("file", "x.mp4"), SourceSpec("image", str(tmp_path / "a.jpg")))
    with pytest.raises(SourceError, match="sub-stream"):
        with_gate(SourceSpec("file", "x.mp4"), SourceSpec("synthetic", "busy"))


def test_a_frame_whose_main_picture_is_missing_sends_nothing_and_keeps_the_keepalive() -> None:
    pipeline = CameraPipeline(CameraConfig("K001", "cam1", settings=SETTINGS))
    small = np.full((54, 96), 100, np.uint8)
    lost = Frame(None, 0, decode=lambda: None, small=small)
    assert pipeline.process(lost, 1_000) == []  # the keep-alive was due: no picture
    assert pipeline.counters.unavailable == 1 and pipeline.counters.frames_sent == 0
    found = Frame(None, 1, decode=lambda: np.zeros((54, 96, 3), np.uint8), small=small)
    out = pipeline.process(found, 2_000)
    assert len(out) == 1 and pipeline.counters.keepalives == 1  # still due, sent now


def test_a_live_main_stream_is_opened_on_demand_and_closed_when_idle(tmp_path: Path) -> None:
    """Sub-stream from a file, live main stream (scripted): the main stream is opened only
    when a frame's picture is needed, kept open `hold_s`, then closed; a main stream that
    drops or cannot be opened makes the frame unavailable without stalling the next
    samples (no new try before a few seconds)."""
    import socket

    from brightwatch.edge.camera.source import (
        FrameUnavailable,
        MainOnDemand,
        SubStreamCapture,
        parse_source,
    )
    from tests.edge.camera_support import ScriptedCapture

    sub = scene_video(tmp_path / "sub.avi", "static", 320)
    clock = [0.0]
    opened: list[ScriptedCapture] = []

    def opener(spec: SourceSpec) -> ScriptedCapture:
        capture = ScriptedCapture([np.full((48, 64, 3), 10 * len(opened), np.uint8)] * 2)
        opened.append(capture)
        return capture

    main = MainOnDemand(
        parse_source("rtsp://cam.local/main"), hold_s=5.0, monotonic=lambda: clock[0], opener=opener
    )
    capture = SubStreamCapture(FileCapture(str(sub), 1.0), main, 1.0)
    first = capture.read()
    assert first is not None and main.opened == 0 and main.capture is None
    assert level(first.image) == 0 and main.opened == 1  # opened for it
    clock[0] = 3.0
    held = capture.read()
    assert held is not None and main.capture is not None  # held, nothing decoded
    clock[0] = 9.0
    later = capture.read()
    assert later is not None and main.capture is None  # idle for 6 s > 5 s: closed
    assert level(later.image) == 1 and main.opened == 2  # opened again
    assert level(held.image) == 1 and opened[1].k == 2  # from the open stream
    # the stream drops (scripted: 2 frames): unavailable, and not reopened at once
    dropped = capture.read()
    assert dropped is not None
    with pytest.raises(FrameUnavailable):
        _ = dropped.image
    assert main.capture is None and main.image() is None and main.opened == 2
    clock[0] = 20.0
    assert main.image() is not None and main.opened == 3  # tried again later
    capture.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    away = MainOnDemand(parse_source(f"http://127.0.0.1:{port}/main.avi"), monotonic=lambda: 0.0)
    lost = Frame(None, -1, decode=away.image, small=np.zeros((54, 96), np.uint8))
    with pytest.raises(FrameUnavailable):
        _ = lost.image
    assert away.retry_at > 0.0 and away.image() is None and away.opened == 0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg command")
def test_an_h264_main_file_is_decoded_from_the_key_frame_before_the_frame(tmp_path: Path) -> None:
    """An H.264 main stream in a file (a key frame every 4 frames) behind an MJPEG
    sub-stream: each frame asked for is the main stream's frame at that time, whether
    forward, far ahead or backwards."""
    from brightwatch.edge.camera.source import KeyFrameFile, SubStreamCapture

    main = tmp_path / "main.mp4"
    command = [
        "ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
        "-s", "64x48", "-r", "2", "-i", "-", "-c:v", "libx264", "-g", "4", "-bf", "0",
        "-pix_fmt", "yuv420p", str(main),
    ]  # fmt: skip
    pictures = b"".join(np.full((48, 64, 3), 10 * k, np.uint8).tobytes() for k in range(20))
    subprocess.run(command, input=pictures, check=True, timeout=60)
    sub = numbered_video(tmp_path / "sub.avi", 10, 1, (32, 24))
    assert KeyFrameFile.supports(str(main))
    keyed = KeyFrameFile(str(main), 1.0)
    assert [level(keyed.frame_at(k)) for k in (0, 3, 9, 18, 2)] == [0, 3, 9, 18, 2]  # type: ignore[arg-type]
    keyed.close()
    in_a_row = KeyFrameFile(str(main), 1.0)  # one sample = 2 frames: motion, frame after frame
    assert [level(in_a_row.frame_at(k)) for k in (4, 6, 8, 10)] == [4, 6, 8, 10]  # type: ignore[arg-type]
    assert in_a_row.sequential is not None  # decoding in sequence, as a held stream
    assert level(in_a_row.frame_at(16)) == 16 and in_a_row.sequential is None  # type: ignore[arg-type]
    in_a_row.close()
    capture = SubStreamCapture(FileCapture(str(sub), 1.0), KeyFrameFile(str(main), 1.0), 1.0)
    frames = [capture.read() for _ in range(10)]
    # sample k at k seconds: the main stream's frame 2k (2 fps), the sub-stream's frame k
    assert [f.index for f in frames if f is not None] == list(range(0, 20, 2))
    assert [level(f.image) for f in frames[::3] if f is not None] == [0, 6, 12, 18]
    assert frames[1] is not None and not frames[1].decoded and level(frames[1].gate_view()) == 1
    capture.close()
