"""What a dashboard is made of, independent of Grafana's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ColumnKind = Literal["time", "number", "text", "bool"]
PanelKind = Literal["stat", "timeseries", "table", "state-timeline", "barchart", "bargauge"]

DATASOURCE_UID = "brightwatch-pg"
DATASOURCE_TYPE = "grafana-postgresql-datasource"
# written in a panel's SQL where the board's language matters (an alert's summary in the
# reader's language, `alert.summaries`): each language's board gets its own literal
# (`Panel.sql_in`), so Grafana never sees the mark
LOCALE_MARK = "$__bw_locale"


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind


def cols(spec: str) -> tuple[Column, ...]:
    """'time:time, P1:number, code:text' -> columns."""
    out = []
    for part in spec.split(","):
        name, _, kind = part.strip().rpartition(":")
        out.append(Column(name, kind))  # type: ignore[arg-type]
    return tuple(out)


@dataclass(frozen=True)
class Panel:
    title: str
    kind: PanelKind
    sql: str
    columns: tuple[Column, ...]
    # time_series: rows are (time, value...) or (time, metric, value); table: anything
    format: Literal["time_series", "table"] = "table"
    description: str = ""
    unit: str = ""
    width: int = 12
    height: int = 8
    # thresholds as (value, colour), the first value None (the base colour)
    thresholds: tuple[tuple[float | None, str], ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    min_rows: int = 1  # rows the generated history must produce (tests)
    # tables the query reads that later parts of the service add (tickets, maintenance
    # plans, reviews): tests skip the panel where the schema does not have them yet
    requires: tuple[str, ...] = ()
    # Grafana's relative time override ("7d"): this panel shows the last 7 days whatever
    # the dashboard's range (trends beside a short-range status view)
    time_from: str | None = None
    # (column, URL) pairs: a cell of the column links to the URL, where `${__value.raw}`
    # is the cell's value (Grafana's data link variables)
    links: tuple[tuple[str, str], ...] = ()

    def sql_in(self, locale: str) -> str:
        """The query of the board in `locale` (LOCALE_MARK written as its SQL literal)."""
        return self.sql.replace(LOCALE_MARK, "'" + locale.replace("'", "''") + "'")


# an alert's page in the console (api/web, `#/alerts/{id}`): what it is and everything done
# about it. Relative to the host: the console is served at `/` and Grafana at `/grafana/`
# behind the same proxy (compose.yaml).
ALERT_PAGE = "/#/alerts/${__value.raw}"


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    sql: str
    multi: bool = False
    include_all: bool = False


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = ()
    time_from: str = "now-7d"
    refresh: str = "1m"
    tags: tuple[str, ...] = ("brightwatch",)
