"""`brightwatch edge camera`: the camera agent."""

from __future__ import annotations

import sys

import click

from brightwatch.commands import edge_group


@edge_group().command()
@click.option("--site", "site_id", required=True, help="The kitchen's site_id.")
@click.option("--camera", "camera_id", required=True, help="The camera's camera_id.")
@click.option(
    "--source",
    required=True,
    help="A video or image FILE, an rtsp:// (or http://) URL, a DEVICE index or /dev/videoN, "
    "or synthetic:static|busy|kitchen (a drawn scene, for demos and tests).",
)
@click.option(
    "--gate-source",
    help="The camera's low-resolution sub-stream (URL, DEVICE or FILE of the same scene) for "
    "the motion gate; the main --source is then decoded only for the frames sent "
    "(default BW_EDGE__CAMERA__GATE_SOURCE).",
)
@click.option(
    "--fps",
    type=click.FloatRange(0.01, 30),
    help="Frames sampled per second (default BW_EDGE__CAMERA__FPS, 1).",
)
@click.option(
    "--detect",
    is_flag=True,
    help="Run the detector (BW_MODEL, or --model) here and publish detections with an "
    "evidence frame, instead of sending frames to the server.",
)
@click.option("--model", help="Detector for --detect (default BW_MODEL): a file or a name.")
@click.option(
    "--loop/--no-loop",
    default=False,
    show_default=True,
    help="Play a file source again at its end.",
)
@click.option(
    "--keepalive",
    type=click.FloatRange(1, 3600),
    help="Seconds between keep-alive frames without motion (default BW_EDGE__CAMERA__KEEPALIVE_S).",
)
@click.option("--duration", type=click.FloatRange(0), help="Stop after this many seconds.")
@click.option(
    "--protocol", type=click.Choice(["5", "3.1.1"]), help="MQTT version (default BW_MQTT_PROTOCOL)."
)
def camera(
    site_id: str,
    camera_id: str,
    source: str,
    gate_source: str | None,
    fps: float | None,
    detect: bool,
    model: str | None,
    loop: bool,
    keepalive: float | None,
    duration: float | None,
    protocol: str | None,
) -> None:
    """Camera agent: motion-gated frames (or edge detections) over MQTT (BW_MQTT_URL,
    BW_TOPIC_ROOT), with a store-and-forward spool under BW_DATA_DIR/spool."""
    import threading

    from brightwatch.cli import settings_from_env, stop_on_signals
    from brightwatch.contract.ids import is_valid_id
    from brightwatch.edge.camera.agent import CameraAgent, CameraConfig
    from brightwatch.edge.camera.source import FrameSource, SourceError, parse_source, with_gate
    from brightwatch.runtime import broker_of

    settings = settings_from_env()
    for value, hint in ((site_id, "--site"), (camera_id, "--camera")):
        if not is_valid_id(value):
            raise click.BadParameter("must be 1-64 characters of [A-Za-z0-9_.-]", param_hint=hint)
    updates: dict[str, object] = {}
    if fps is not None:
        updates["fps"] = fps
    if keepalive is not None:
        updates["keepalive_s"] = keepalive
    if gate_source is not None:
        updates["gate_source"] = gate_source
    cam = settings.edge.camera.model_copy(update=updates)
    try:
        spec = parse_source(source)
        if cam.gate_source:
            try:
                spec = with_gate(spec, parse_source(cam.gate_source))
            except SourceError as exc:
                raise click.BadParameter(str(exc), param_hint="--gate-source") from None
        frames = FrameSource(
            spec,
            cam.fps,
            loop=loop,
            reconnect_min_s=cam.reconnect_min_s,
            reconnect_max_s=cam.reconnect_max_s,
            gate_width=cam.gate_width,
            hw_decode=cam.hw_decode,
            main_hold_s=cam.main_hold_s,
            decode_threads=cam.decode_threads,
        )
        if spec.kind in ("file", "image", "synthetic"):
            frames.open()  # a file that cannot be read is an error now, not a retry loop
    except SourceError as exc:
        raise click.BadParameter(str(exc), param_hint="--source") from None
    detector = None
    if detect:
        from brightwatch.vision.detector import DetectorError, load_detector

        try:
            detector = load_detector(
                model or settings.model, models=settings.vision.models, data_dir=settings.data_dir
            )
        except DetectorError as exc:
            raise click.BadParameter(str(exc), param_hint="--model") from None
    agent = CameraAgent(
        CameraConfig(
            site_id=site_id,
            camera_id=camera_id,
            topic_root=settings.topic_root,
            data_dir=settings.data_dir,
            settings=cam,
            detect=detect,
            duration_s=duration,
        ),
        broker_of(settings, protocol),
        frames,
        detector,
    )
    stop = threading.Event()
    with stop_on_signals(stop):
        agent.run(stop)
    sys.exit(0)
