"""`brightwatch vision assess`: what the deployed per-frame pipeline makes of images and
videos (the rules: vision.frame_assess), one JSON object per frame with `--json`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from brightwatch.cli import settings_from_env
from brightwatch.commands.vision import _fail, model_option, vision


def _line(found: dict[str, object]) -> str:
    persons = found["persons"]
    assert isinstance(persons, list)
    who = "; ".join(
        f"person {p['score']:.2f}"
        + "".join(f" {k}={v}" for k, v in sorted(p["attributes"].items()))
        for p in persons
    )
    objects = found["objects"]
    assert isinstance(objects, list)
    what = ", ".join(f"{o['label']} {o['score']:.2f}" for o in objects)
    codes = found["candidates"]
    assert isinstance(codes, list)
    return (
        f"{found['source']} ({found['width']}x{found['height']}): "
        f"{who or 'no person'}{'; ' + what if what else ''}"
        f" -> {', '.join(codes) or 'nothing'}"
    )


@vision.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@model_option
@click.option(
    "--camera",
    default=None,
    metavar="SITE/CAMERA",
    help='Apply this camera\'s [vision.cameras."SITE/CAMERA"] settings (zones, rules, input).',
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per frame on stdout.")
@click.option(
    "--every", default=1, show_default=True, type=click.IntRange(1), help="Video: every Nth frame."
)
@click.option(
    "--max-frames", default=None, type=click.IntRange(1), help="Video: stop after N frames."
)
def assess(
    sources: tuple[Path, ...],
    model_spec: str | None,
    camera: str | None,
    as_json: bool,
    every: int,
    max_frames: int | None,
) -> None:
    """Run the deployed per-frame pipeline (detectors, faces, classifiers, the rules'
    per-frame judgement) on images, folders or videos: persons with their attributes,
    other objects, and the codes each frame counts towards before confirmation."""
    from brightwatch.vision.frame_assess import FrameAssessor
    from brightwatch.vision.frames import FrameSourceError, frames_of, read_ahead

    settings = settings_from_env()
    if camera is not None and "/" not in camera:
        _fail(f"--camera wants SITE/CAMERA, not {camera!r}")
    assessor = FrameAssessor.from_settings(
        settings.vision, model_spec or settings.model, settings.data_dir, camera
    )
    if not assessor.inference.detectors:
        _fail("no detector could be loaded (see the warnings above): nothing to assess", 1)
    frames = 0
    try:
        # the next picture decoded while this one is assessed
        for key, image in read_ahead(frames_of(sources, every=every, max_frames=max_frames)):
            found = assessor.assess(image, key)
            frames += 1
            click.echo(json.dumps(found, ensure_ascii=False) if as_json else _line(found))
    except FrameSourceError as exc:
        _fail(str(exc))
    if not frames:
        _fail("no frame read", 1)
    sys.stdout.flush()
