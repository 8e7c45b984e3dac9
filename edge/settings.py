"""Settings of the edge agents (section `[edge]`, env `BW_EDGE__...`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class CameraSettings(BaseModel):
    """The camera agent (`[edge.camera]`, env `BW_EDGE__CAMERA__...`)."""

    fps: float = Field(
        1.0,
        gt=0.0,
        le=30.0,
        title="Sampling rate",
        description="Frames sampled per second (kitchens.md: 1-2 fps for inference); `--fps` overrides it.",
    )
    gate_width: int = Field(
        96,
        ge=32,
        le=640,
        title="Motion image width",
        description="Width in pixels of the small grey image motion is measured on (height keeps the aspect).",
    )
    gate_blur: int = Field(
        5,
        ge=1,
        le=31,
        title="Motion blur kernel",
        description="Side of the Gaussian blur on the small image (odd; 1 = none): sensor noise and JPEG artefacts must not count as motion.",
    )
    gate_source: str | None = Field(
        None,
        title="Motion sub-stream",
        description="The camera's low-resolution sub-stream (an rtsp:// URL, a device or a video file of the same scene), for the motion gate: the main source is then decoded only for the frames sent (a live main stream is opened on demand). Unset: the gate looks at the main source (an MJPEG source is still decoded at 1/2-1/8 scale for it). `--gate-source` overrides it.",
    )
    main_hold_s: float = Field(
        10.0,
        ge=0.0,
        le=600.0,
        title="Main stream hold",
        description="With a sub-stream: a live main stream opened for a frame stays open this long after the last frame taken from it (a person moving keeps it open; a static scene closes it).",
    )
    decode_threads: int = Field(
        1,
        ge=0,
        le=16,
        title="Decoder threads",
        description="Threads of each video decoder (FFmpeg; 0: one per core). One costs the least CPU per frame (frame threads add 10-15 % on H.264), and an edge node with many cameras has one decoder per camera already; a main stream too large for one core to decode at its frame rate (4K on a small edge CPU) needs more.",
    )
    keepalive_source: Literal["sub", "main"] = Field(
        "sub",
        title="Keep-alive picture",
        description="With a sub-stream (`gate_source`): `sub` sends a keep-alive frame from the sub-stream picture the gate has already decoded, at the sub-stream's size, so a still scene never opens or decodes the main stream; `main` decodes the main stream for it (a sharper public picture, at the price of a main-stream decode, or of opening a live main stream, every keep-alive). Keep-alive frames carry the MQTT 5 user property `keepalive` (`sub` or `main`).",
    )
    hw_decode: bool = Field(
        False,
        title="Hardware decoding",
        description="Ask OpenCV's FFmpeg backend for hardware video decoding (VAAPI, D3D11, ...); it falls back to software when the machine has none.",
    )
    pixel_threshold: int = Field(
        18,
        ge=1,
        le=255,
        title="Changed-pixel threshold",
        description="Grey-level difference from the background (0-255) above which a pixel of the small image counts as changed.",
    )
    changed_ratio: float = Field(
        0.004,
        gt=0.0,
        le=1.0,
        title="Motion area",
        description="Share of changed pixels of the small image that makes a frame a motion frame (0.004 of 96x54 is about 20 pixels: a person far away).",
    )
    mean_diff: float = Field(
        12.0,
        gt=0.0,
        le=255.0,
        title="Global change",
        description="Mean absolute grey-level difference from the background that makes a frame a motion frame even when no area stands out (lights switched, camera moved).",
    )
    background_alpha: float = Field(
        0.1,
        gt=0.0,
        le=1.0,
        title="Background adaptation",
        description="Weight of each new frame in the running background (0.1: a change that stays is absorbed after about 20 frames).",
    )
    keepalive_s: float = Field(
        60.0,
        ge=1.0,
        le=3600.0,
        title="Keep-alive interval",
        description="A frame is sent at least this often without motion, so the public page and the server's offline and obstruction checks stay current. 60 s keeps a 5x margin under CAMERA_OFFLINE (5 min without a frame, kitchens.md); a condition that appears without motion (a lens slowly fogging, an open bin) is confirmed on 3 of 5 frames, so one or two keep-alives later. In a still scene the keep-alives are most of what the camera costs (their server-side inference alone is 1/60 of a busy scene's).",
    )
    jpeg_quality: int = Field(
        80, ge=10, le=100, title="JPEG quality", description="Quality of the frames sent (10-100)."
    )
    max_width: int | None = Field(
        1280,
        ge=64,
        le=8192,
        title="Maximum frame width",
        description="Frames wider than this are scaled down before they are sent (unset: as captured).",
    )
    detect_labels: list[str] = Field(
        default_factory=lambda: [
            "person",
            "rat",
            "mouse",
            "cat",
            "dog",
            "cell phone",
            "cigarette",
            "fire",
            "flame",
        ],
        title="Classes of interest",
        description="With --detect: detections of these class names are published (with an evidence frame); frames with none of them send nothing. Empty: every class.",
    )
    reconnect_min_s: float = Field(
        1.0,
        gt=0.0,
        le=60.0,
        title="First reconnect delay",
        description="Wait before reopening a failed source; doubled after each failure up to the maximum.",
    )
    reconnect_max_s: float = Field(
        30.0,
        gt=0.0,
        le=600.0,
        title="Longest reconnect delay",
        description="Upper bound of the source's reconnect back-off.",
    )
    spool_max_messages: int = Field(
        5000,
        ge=10,
        title="Spool capacity (frames)",
        description="Messages kept on disk while the broker is unreachable, the oldest dropped beyond it; frames weigh 50-200 kB each.",
    )


class EdgeSettings(BaseModel):
    spool_max_messages: int = Field(
        1_000_000,
        ge=1000,
        title="Spool capacity",
        description="Messages kept on disk while the broker is unreachable; the oldest go first beyond this.",
    )
    camera: CameraSettings = Field(default_factory=CameraSettings, title="Camera agent")
