"""Upstream code mappings keyed by platform name, loaded from TOML files."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from brightwatch.contract.codes import ELEVATOR_CATALOGUE, KITCHEN_CATALOGUE
from brightwatch.contract.payloads import ServiceMode

HERE = Path(__file__).parent
MODE_CHANGE = "MODE_CHANGE"
SERVICE_MODES: tuple[str, ...] = ServiceMode.__args__  # type: ignore[attr-defined]


class MappingError(ValueError):
    """A mapping file that does not describe a platform; the message names the file and key."""


@dataclass(frozen=True)
class PlatformMapping:
    name: str
    title: str
    kinds: tuple[str, ...]
    codes: Mapping[str, str]  # catalogue code -> upstream code
    mode_codes: Mapping[str, str]  # service mode entered -> upstream code (MODE_CHANGE)
    unmapped: Mapping[str, str]  # catalogue code -> why it has no upstream code

    def upstream_code(self, code: str, details: Mapping[str, Any] | None = None) -> str | None:
        """The platform's code for one of our alerts; None when it has none."""
        if code == MODE_CHANGE and self.mode_codes:
            mode = (details or {}).get("rule")
            return self.mode_codes.get(str(mode)) if mode is not None else None
        return self.codes.get(code)

    def covered(self) -> set[str]:
        return set(self.codes) | set(self.unmapped) | ({MODE_CHANGE} if self.mode_codes else set())


def _catalogue(kind: str) -> Mapping[str, Any]:
    return ELEVATOR_CATALOGUE if kind == "elevator" else KITCHEN_CATALOGUE


def load_mapping(path: Path) -> PlatformMapping:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path}: {exc}") from None
    where = path.name
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise MappingError(f"{where}: name: a platform name is required")
    kinds = tuple(data.get("kinds", ["elevator"]))
    if not set(kinds) <= {"elevator", "kitchen"}:
        raise MappingError(f"{where}: kinds: elevator and/or kitchen")
    known: set[str] = set()
    for k in kinds:
        known |= set(_catalogue(k))
    codes = {str(k): str(v) for k, v in data.get("codes", {}).items()}
    unmapped = {str(k): str(v) for k, v in data.get("unmapped", {}).items()}
    modes = {str(k): str(v) for k, v in data.get("mode_codes", {}).items()}
    for section, table in (("codes", codes), ("unmapped", unmapped)):
        strange = sorted(set(table) - known)
        if strange:
            raise MappingError(f"{where}: {section}: not catalogue codes: {', '.join(strange)}")
    both = sorted(set(codes) & set(unmapped))
    if both:
        raise MappingError(f"{where}: mapped and unmapped at once: {', '.join(both)}")
    bad_modes = sorted(set(modes) - set(SERVICE_MODES))
    if bad_modes:
        raise MappingError(f"{where}: mode_codes: not service modes: {', '.join(bad_modes)}")
    return PlatformMapping(
        name=name,
        title=str(data.get("title", name)),
        kinds=kinds,
        codes=codes,
        mode_codes=modes,
        unmapped=unmapped,
    )


@cache
def builtin_platforms() -> dict[str, PlatformMapping]:
    found: dict[str, PlatformMapping] = {}
    for path in sorted(HERE.glob("*.toml")):
        m = load_mapping(path)
        if m.name in found:
            raise MappingError(f"{path.name}: platform {m.name!r} is defined twice")
        found[m.name] = m
    return found


def platform(name: str, extra: Path | None = None) -> PlatformMapping:
    """A platform by name: the built-in files, or `extra` (a mapping file) when given."""
    if extra is not None:
        m = load_mapping(extra)
        if m.name != name:
            raise MappingError(f"{extra.name}: defines platform {m.name!r}, not {name!r}")
        return m
    try:
        return builtin_platforms()[name]
    except KeyError:
        raise MappingError(
            f"unknown platform {name!r}; known: {', '.join(sorted(builtin_platforms()))}"
        ) from None
