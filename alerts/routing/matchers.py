"""Label matchers, Alertmanager style: `name=value`, `name!=value`, `name=~regex`,
`name!~regex`. Regular expressions are anchored (they must match the whole value), and a
missing label matches as the empty string, as in Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SPLIT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
OPS = ("=", "!=", "=~", "!~")


class MatcherError(ValueError):
    """A matcher that cannot be parsed; the message says which and why."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise MatcherError(f"label name {self.name!r} must match [A-Za-z_][A-Za-z0-9_]*")
        if self.op not in OPS:
            raise MatcherError(f"operator {self.op!r} must be one of {', '.join(OPS)}")
        if len(self.value) > 1000:
            raise MatcherError("matcher value longer than 1000 characters")
        if self.is_regex:
            try:
                re.compile(self.value)
            except re.error as exc:
                raise MatcherError(f"bad regular expression {self.value!r}: {exc}") from None

    @property
    def is_regex(self) -> bool:
        return self.op in ("=~", "!~")

    @property
    def is_equal(self) -> bool:
        return self.op in ("=", "=~")

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile(self.value)

    def matches(self, labels: Mapping[str, Any]) -> bool:
        raw = labels.get(self.name)
        value = "" if raw is None else str(raw)
        hit = self._pattern.fullmatch(value) is not None if self.is_regex else value == self.value
        return hit if self.is_equal else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'

    @classmethod
    def parse(cls, text: str) -> Matcher:
        m = _SPLIT.match(text)
        if not m:
            raise MatcherError(
                f"matcher {text!r} must look like name=value, name!=value, name=~re or name!~re"
            )
        name, op, value = m.groups()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"')
        return cls(name, op, value)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Matcher:
        """Alertmanager API v2 form: {"name", "value", "isRegex", "isEqual"}."""
        is_regex = bool(obj.get("isRegex", False))
        is_equal = bool(obj.get("isEqual", True))
        op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[
            (is_regex, is_equal)
        ]
        return cls(str(obj.get("name", "")), op, str(obj.get("value", "")))

    def to_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.is_regex,
            "isEqual": self.is_equal,
        }


def match_all(matchers: Iterable[Matcher], labels: Mapping[str, Any]) -> bool:
    return all(m.matches(labels) for m in matchers)


@lru_cache(maxsize=1024)
def parse(text: str) -> Matcher:
    """`Matcher.parse`, remembered: the routing tree matches its routes' matcher strings on
    every alert change, and a Matcher is frozen, so one parse per string is enough."""
    return Matcher.parse(text)
