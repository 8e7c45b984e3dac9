"""Camera sources: parsing, sampling a file in its own time, looping, and reopening a
failed source with back-off and few log lines."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from brightwatch.edge.camera.source import (
    Frame,
    FrameSource,
    SourceError,
    SourceSpec,
    parse_source,
)
from tests.edge.camera_support import ScriptedCapture, write_video


def numbered_video(path: Path, count: int, fps: float) -> Path:
    """Frame k is a flat grey of level 10 * k, readable back after JPEG compression."""
    frames = [np.full((48, 64, 3), 10 * k, np.uint8) for k in range(count)]
    return write_video(path, frames, fps)


def level(frame: Frame | None) -> int:
    assert frame is not None
    return round(float(frame.image.mean()) / 10)


@pytest.mark.parametrize(
    ("text", "kind", "shown"),
    [
        ("0", "device", "0"),
        ("/dev/video2", "device", "/dev/video2"),
        ("rtsp://admin:s3cret@10.0.0.5:554/ch1?sub=1", "stream", "rtsp://10.0.0.5:554/ch1"),
        ("http://cam.local/video.mjpg", "stream", "http://cam.local/video.mjpg"),
        ("synthetic:busy", "synthetic", "synthetic:busy"),
    ],
)
def test_parse_source(text: str, kind: str, shown: str) -> None:
    spec = parse_source(text)
    assert spec.kind == kind
    assert str(spec) == shown  # what the logs show: never the stream's password


def test_parse_files(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "b.JPG").write_bytes(b"")
    assert parse_source(str(tmp_path / "a.mp4")).kind == "file"
    assert parse_source(str(tmp_path / "b.JPG")).kind == "image"
    with pytest.raises(SourceError, match="no such file"):
        parse_source(str(tmp_path / "c.mp4"))
    with pytest.raises(SourceError, match="without a host"):
        parse_source("rtsp:///ch1")


def test_file_is_sampled_in_its_own_time(tmp_path: Path) -> None:
    video = numbered_video(tmp_path / "v.avi", 25, fps=10)
    source = FrameSource(SourceSpec("file", str(video)), fps=2.0, loop=False)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert [f.index for f in frames] == [0, 5, 10, 15, 20]
    assert [level(f) for f in frames] == [0, 5, 10, 15, 20]
    assert source.ended and source.read() is None


def test_sampling_faster_than_the_file_repeats_frames(tmp_path: Path) -> None:
    video = numbered_video(tmp_path / "v.avi", 3, fps=1)
    source = FrameSource(SourceSpec("file", str(video)), fps=2.0, loop=False)
    assert [source.read().index for _ in range(6)] == [0, 0, 1, 1, 2, 2]  # type: ignore[union-attr]


def test_a_looped_file_starts_again(tmp_path: Path) -> None:
    video = numbered_video(tmp_path / "v.avi", 3, fps=1)
    source = FrameSource(SourceSpec("file", str(video)), fps=1.0, loop=True)
    assert [level(source.read()) for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    assert not source.ended and source.failures == 0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_failed_source_reopens_with_backoff_and_bounded_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    opened: list[float] = []
    image = np.zeros((8, 8, 3), np.uint8)

    def opener(spec: SourceSpec, fps: float) -> ScriptedCapture:
        opened.append(clock.now)
        if len(opened) == 1:
            return ScriptedCapture([image, image, None])  # two frames, then the stream drops
        if len(opened) < 12:
            raise SourceError("connection refused")
        return ScriptedCapture([image] * 100)

    source = FrameSource(
        SourceSpec("stream", "rtsp://cam/1"),
        fps=1.0,
        reconnect_min_s=1.0,
        reconnect_max_s=8.0,
        opener=opener,
        monotonic=clock,
    )
    caplog.set_level(logging.INFO, logger="brightwatch.edge.camera.source")
    got = []
    while clock.now < 200 and sum(f is not None for f in got) < 5:
        got.append(source.read())
        clock.now += 0.5
    assert [f is not None for f in got[:2]] == [True, True]
    # the drop at 1.0 s, then refusals: retries 1, 2, 4, 8, 8, ... s apart
    gaps = [b - a for a, b in zip(opened[1:], opened[2:], strict=False)]
    assert gaps[:4] == [2.0, 4.0, 8.0, 8.0]  # each retry waits the doubled delay
    assert max(gaps) == 8.0
    assert len(opened) == 12 and source.reopened == 1 and source.failures == 0
    assert sum(f is not None for f in got) == 5 and not source.ended
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    # 11 failures over about 70 s: the first, and one a minute after
    assert len(warnings) == 2
    assert "no frame" in warnings[0].getMessage()
    back = [r.getMessage() for r in caplog.records if "is back" in r.getMessage()]
    assert len(back) == 1 and "11 failure(s)" in back[0]


def test_a_stream_is_read_live_and_reopened_when_it_ends(tmp_path: Path) -> None:
    """An HTTP stream (a short video served locally): frames while it plays, a failure
    when it ends, frames again once it is reopened."""
    import functools
    import threading
    import time
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    numbered_video(tmp_path / "live.avi", 20, fps=10)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/live.avi"
    source = FrameSource(parse_source(url), 1.0, reconnect_min_s=0.05, reconnect_max_s=0.1)
    try:
        frames = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (source.reopened and len(frames) >= 3):
            frame = source.read()
            if frame is not None:
                assert frame.index == -1 and frame.image.shape == (48, 64, 3)
                frames.append(frame)
            time.sleep(0.01)
        # the file is read faster than it is sampled: it "ends" and is opened again
        assert frames and source.reopened >= 1 and not source.ended
    finally:
        source.close()
        server.shutdown()
        server.server_close()
