"""`brightwatch vision detect|eval|train|export`."""

from __future__ import annotations

from brightwatch.cli import main
from brightwatch.commands import not_yet


@main.group()
def vision() -> None:
    """Run, evaluate, train and export detectors."""


@vision.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def detect() -> None:
    """Run the detector on image or video files."""
    not_yet("vision detect", 4)


@vision.command(
    name="eval", context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
)
def eval_() -> None:
    """Evaluate a model against YOLO-format labels."""
    not_yet("vision eval", 4)


@vision.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def train() -> None:
    """Train or fine-tune a detector or attribute classifier."""
    not_yet("vision train", 4)


@vision.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def export() -> None:
    """Export a model to ONNX."""
    not_yet("vision export", 4)
