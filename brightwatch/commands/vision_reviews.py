"""`brightwatch vision export-reviews`: review decisions as a YOLO dataset for
`brightwatch vision train detector`, and the classifiers' verdicts as crops for
`brightwatch vision train classifier` (the dataset's rules: alerts.review.export and
alerts.review.labels)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brightwatch.cli import settings_from_env
from brightwatch.commands import connect, iso_time
from brightwatch.commands.vision import vision


def _model_class_names(path: Path) -> list[str]:
    """Class names (in id order) from a model's own metadata: ONNX `names`, or a .pt."""
    from brightwatch.alerts.review.export import ExportError
    from brightwatch.vision.detector.metadata import names_from

    raw: object
    if path.suffix == ".pt":
        try:
            from ultralytics import YOLO
        except ImportError:
            raise ExportError("reading a .pt model needs the ultralytics extra") from None
        raw = YOLO(str(path)).names
    else:
        import onnxruntime as ort

        try:
            meta = ort.InferenceSession(
                str(path), providers=["CPUExecutionProvider"]
            ).get_modelmeta()
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ExportError(f"cannot read model {path}: {exc}") from None
        raw = meta.custom_metadata_map.get("names")
        if not raw:
            raise ExportError(f"model {path} carries no class names in its metadata")
    try:
        return list(names_from(raw))
    except ValueError as exc:
        raise ExportError(f"model {path}: {exc}") from None


@vision.command("export-reviews")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="New folder for the dataset.",
)
@click.option("--since", help="Only decisions from this date/time on (ISO; UTC when no zone).")
@click.option(
    "--val-fraction",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0.01, 0.99),
    help="Share of alerts in the validation split.",
)
@click.option(
    "--classes",
    help="Class names in id order, comma-separated (default: the classes the decisions use).",
)
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Take the class names (and ids) from this model's metadata, so the set fine-tunes it.",
)
@click.option(
    "--person-classes",
    default="person",
    show_default=True,
    help="Detector classes that are persons, comma-separated: a dismissal never unlabels them.",
)
def export_reviews_command(
    out: Path,
    since: str | None,
    val_fraction: float,
    classes: str | None,
    model: Path | None,
    person_classes: str,
) -> None:
    """Write confirmed and dismissed review evidence as a YOLO dataset (images/, labels/,
    data.yaml) and classifier verdicts as crops (classify/<split>/<label>/)."""
    import psycopg

    from brightwatch.alerts.review.export import ExportError, export_reviews

    settings = settings_from_env()
    if classes and model:
        raise click.UsageError("give --classes or --model, not both")
    try:
        names = (
            _model_class_names(model)
            if model
            else ([c.strip() for c in classes.split(",") if c.strip()] if classes else None)
        )
        with connect(settings) as conn:
            result = export_reviews(
                conn,
                Path(settings.data_dir),
                out,
                since=iso_time(since) if since is not None else None,
                names=names,
                val_fraction=val_fraction,
                person_labels={c.strip() for c in person_classes.split(",") if c.strip()},
            )
    except ExportError as exc:
        click.echo(f"export-reviews: {exc}", err=True)
        sys.exit(1)
    except psycopg.OperationalError:
        click.echo("export-reviews: cannot reach the database (BW_DATABASE_URL)", err=True)
        sys.exit(1)
    for line in result.skipped:
        click.echo(f"skipped: {line}", err=True)
    click.echo(f"wrote {out / 'data.yaml'}: {result.summary()}")
    if result.crops:
        click.echo(
            f"classifier crops in {out / 'classify'}:"
            f" brightwatch vision train classifier --data {out / 'classify'} --output ..."
        )
