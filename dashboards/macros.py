"""Grafana's SQL macros and template variables, expanded as its PostgreSQL datasource
does (grafana/pkg/tsdb/grafana-postgresql-datasource/macros.go), so a panel's query can
run outside Grafana: in the tests and the benchmark.

Macros: $__timeFilter(col), $__timeFrom(), $__timeTo(), $__timeGroup(col, interval[, fill]),
$__timeGroupAlias(col, interval[, fill]), $__unixEpochFilter(col),
$__unixEpochGroupAlias(col, interval), $__timeEpoch(col), $__interval, $__interval_ms.
Variables: $name, ${name}, [[name]], ${name:csv}, ${name:sqlstring}, ${name:raw}; a
single value (a `str`) is written as it is, multi-value and "All" (a list) as the quoted
list Grafana writes for SQL datasources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


class MacroError(ValueError):
    """A query using a macro or variable this expander does not know."""


def interval_seconds(text: str) -> float:
    m = re.fullmatch(r"\s*'?(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)'?\s*", text)
    if not m:
        raise MacroError(f"bad interval {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _ts(t: datetime) -> str:
    # Grafana writes RFC 3339 UTC literals
    return "'" + t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + "'"


def _args(text: str) -> list[str]:
    """Split macro arguments on commas outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _format(values: str | Sequence[str], fmt: str | None) -> str:
    """Grafana's SQL datasources write a single-value variable as it is (queries put it
    in quotes: '$elevator') and a multi-value or "All" one as a quoted list ('a','b')."""
    if isinstance(values, str):
        if fmt == "sqlstring":
            return _quote(values)
        return values
    if fmt in (None, "sqlstring"):
        return ",".join(_quote(v) for v in values)
    if fmt == "csv":
        return ",".join(values)
    if fmt == "raw":
        return ",".join(values)
    raise MacroError(f"variable format {fmt!r} not supported")


def expand_variables(sql: str, variables: Mapping[str, str | Sequence[str]]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group("b") or m.group("p") or m.group("s")
        fmt = m.group("fmt")
        if name.startswith("__"):
            return m.group(0)  # a macro, not a variable
        if name not in variables:
            raise MacroError(f"unknown variable ${name}")
        return _format(variables[name], fmt)

    return re.sub(r"\$\{(?P<b>\w+)(?::(?P<fmt>\w+))?\}|\[\[(?P<s>\w+)\]\]|\$(?P<p>\w+)", sub, sql)


def expand(
    sql: str,
    time_from: datetime,
    time_to: datetime,
    variables: Mapping[str, str | Sequence[str]] | None = None,
    interval: str = "1h",
) -> str:
    """The SQL Grafana would send for this panel, time range and variable values."""
    step = interval_seconds(interval)

    def group(args: list[str], alias: bool, epoch: bool = False) -> str:
        if len(args) < 2:
            raise MacroError("$__timeGroup needs a column and an interval")
        col = args[0]
        n = interval_seconds(args[1] if args[1] != "$__interval" else interval)
        n_text = str(int(n)) if n == int(n) else str(n)
        expr = (
            f"floor({col}/{n_text})*{n_text}"
            if epoch
            else f"floor(extract(epoch from {col})/{n_text})*{n_text}"
        )
        return expr + (' AS "time"' if alias else "")

    def macro(m: re.Match[str]) -> str:
        name, raw_args = m.group(1), m.group(2)
        args = _args(raw_args) if raw_args is not None else []
        if name == "timeFilter":
            return f"{args[0]} BETWEEN {_ts(time_from)} AND {_ts(time_to)}"
        if name == "timeFrom":
            return _ts(time_from)
        if name == "timeTo":
            return _ts(time_to)
        if name == "timeGroup":
            return group(args, alias=False)
        if name == "timeGroupAlias":
            return group(args, alias=True)
        if name == "unixEpochFilter":
            return f"{args[0]} >= {int(time_from.timestamp())} AND {args[0]} <= {int(time_to.timestamp())}"
        if name == "unixEpochGroupAlias":
            return group(args, alias=True, epoch=True)
        if name == "timeEpoch":
            return f'extract(epoch from {args[0]}) as "time"'
        raise MacroError(f"unknown macro $__{name}")

    out = expand_variables(sql, variables or {})
    out = re.sub(r"\$__(\w+)\(([^()]*(?:\([^()]*\)[^()]*)*)\)", macro, out)
    out = out.replace("$__interval_ms", str(int(step * 1000))).replace(
        "$__interval", f"'{interval}'"
    )
    if "$__" in out:
        raise MacroError(f"unexpanded macro in: {out[out.index('$__') :][:60]}")
    return out
