"""A stand-in connection that records statements and answers canned rows, for the
TimescaleDB paths that cannot run here (no TimescaleDB on this machine)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Result:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.rows)

    def __iter__(self) -> Any:
        return iter(self.rows)


class RecordingConnection:
    """`answer(sql, params)` gives the rows of each statement (None: no rows)."""

    def __init__(self, answer: Callable[[str, Any], list[tuple[Any, ...]] | None]) -> None:
        self.answer = answer
        self.statements: list[tuple[str, Any]] = []
        self.closed = False
        self.broken = False

    def execute(self, query: Any, params: Any = None) -> Result:
        text = query.decode() if isinstance(query, bytes) else str(query)
        self.statements.append((text, params))
        return Result(self.answer(text, params) or [])

    def transaction(self) -> Any:
        import contextlib

        return contextlib.nullcontext()

    def sql(self) -> list[str]:
        return [s for s, _ in self.statements]
