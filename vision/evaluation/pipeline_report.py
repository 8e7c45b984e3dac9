"""Writing a pipeline evaluation out (`vision eval --pipeline`): `pipeline.json`, the
terminal table, and two PNG plots: per code precision / recall / unknown rate, and person
recall per variant. matplotlib with the Agg backend, as `plots`.

May import: matplotlib, brightwatch.vision.evaluation (plots, report).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from brightwatch.vision.evaluation.plots import _pyplot
from brightwatch.vision.evaluation.report import _clean


def _f(value: float | None) -> str:
    return "   -  " if value is None or math.isnan(value) else f"{value:6.3f}"


def table(report: dict[str, Any]) -> str:
    """Persons and attributes per split, codes over everything, person recall per variant."""
    lines = [
        f"{'persons':<16}{'frames':>7}{'labelled':>9}{'found':>6}{'false':>6}  "
        f"{'recall':>6}  {'prec':>6}  {'staff R':>7}"
    ]
    groups = {"all": report["all"], **{f"split {k}": v for k, v in report["split"].items()}}
    for name, g in groups.items():
        p = g["persons"]
        lines.append(
            f"{name:<16}{g['frames']:>7}{p['labelled']:>9}{p['detected']:>6}{p['false']:>6}  "
            f"{_f(p['recall'])}  {_f(p['precision'])}  {_f(p['staff_recall']):>7}"
        )
    lines.append("")
    lines.append(
        f"{'attribute':<20}{'violators':>9}  {'P':>6}  {'R':>6}  {'R det':>6}  {'unknown':>7}"
        f"  {'invented':>8}"
    )
    for name, g in groups.items():
        for attr, a in g["attributes"].items():
            lines.append(
                f"{attr + ' ' + name:<20}{a['violators']:>9}  {_f(a['precision'])}  "
                f"{_f(a['recall'])}  {_f(a['recall_detected'])}  {_f(a['unknown_rate']):>7}"
                f"  {a['invented_compliance']:>8}"
            )
    lines.append("")
    lines.append(
        f"{'code (all)':<18}{'frames':>7}{'raised':>7}  {'P':>6}  {'R':>6}  {'unknown':>7}"
    )
    for code, c in report["all"]["codes"].items():
        lines.append(
            f"{code:<18}{c['frames_with_code']:>7}{c['frames_raised']:>7}  {_f(c['precision'])}  "
            f"{_f(c['recall'])}  {_f(c.get('unknown_rate')):>7}"
        )
    unscored = report["all"]["unscored_codes"]
    if unscored:
        lines.append("not scored: " + ", ".join(f"{k} x{v}" for k, v in unscored.items()))
    lines.append("")
    lines.append(f"{'variant':<16}{'frames':>7}{'labelled':>9}  {'recall':>6}  {'prec':>6}")
    for name, g in report["variant"].items():
        p = g["persons"]
        lines.append(
            f"{name:<16}{g['frames']:>7}{p['labelled']:>9}  {_f(p['recall'])}  {_f(p['precision'])}"
        )
    return "\n".join(lines)


def _nan0(value: float | None) -> float:
    return 0.0 if value is None or math.isnan(value) else value


def code_bars(report: dict[str, Any], path: Path, title: str) -> Path:
    plt = _pyplot()
    codes = report["codes"]
    names = list(codes)
    series = [("precision", "tab:blue"), ("recall", "tab:orange"), ("unknown_rate", "tab:gray")]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    width = 0.27
    for k, (key, colour) in enumerate(series):
        xs = [i + (k - 1) * width for i in range(len(names))]
        values = [codes[n].get(key) for n in names]
        ax.bar(xs, [_nan0(v) for v in values], width, color=colour, label=key.replace("_", " "))
        for x, v in zip(xs, values, strict=True):
            if v is None or math.isnan(v):
                ax.text(x, 0.01, "n/a", ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(
        range(len(names)), [f"{n}\n({codes[n]['frames_with_code']} fr)" for n in names], fontsize=8
    )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("P, R per frame; unknown per person")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def variant_recall(report: dict[str, Any], path: Path, title: str) -> Path:
    plt = _pyplot()
    names = list(report["variant"])
    persons = [report["variant"][n]["persons"] for n in names]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    ax.bar(names, [_nan0(p["recall"]) for p in persons], color="tab:green", label="recall")
    ax.plot(names, [_nan0(p["precision"]) for p in persons], "o", color="black", label="precision")
    for i, p in enumerate(persons):
        ax.text(
            i,
            _nan0(p["recall"]) + 0.02,
            f"{p['detected']}/{p['labelled']}",
            ha="center",
            fontsize=8,
        )
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("person recall (IoU 0.5)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write(report: dict[str, Any], out: Path, meta: dict[str, Any]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / "pipeline.json",
        "codes": out / "pipeline_codes.png",
        "variants": out / "pipeline_variants.png",
    }
    paths["json"].write_text(json.dumps(_clean({**meta, **report}), indent=1) + "\n")
    frames = report["all"]["frames"]
    code_bars(
        report["all"], paths["codes"], f"per code, {frames} frames ({meta.get('evaluated_split')})"
    )
    variant_recall(
        report, paths["variants"], f"person recall per variant ({meta.get('evaluated_split')})"
    )
    return paths
