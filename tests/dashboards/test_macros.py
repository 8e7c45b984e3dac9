"""Grafana macro and variable expansion, table-driven from macro_cases.json (expected
texts as Grafana's PostgreSQL datasource writes them)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from brightwatch.dashboards.macros import MacroError, expand

DATA = json.loads((Path(__file__).parent / "macro_cases.json").read_text())
START = datetime.fromisoformat(DATA["range"]["from"])
END = datetime.fromisoformat(DATA["range"]["to"])


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["sql"] for c in DATA["cases"]])
def test_expansion(case: dict[str, str]) -> None:
    assert expand(case["sql"], START, END, DATA["variables"], interval="1h") == case["want"]


@pytest.mark.parametrize("sql", DATA["errors"])
def test_unknown_or_malformed_is_an_error(sql: str) -> None:
    with pytest.raises(MacroError):
        expand(sql, START, END, DATA["variables"])
