"""Generated malformed traffic (quality.md: random bytes, truncated or deep JSON, wrong
types, NaN, huge numbers, 10 MB bodies, bad UTF-8, unknown enums, odd topics)."""

from __future__ import annotations

import random
from collections.abc import Callable

import msgspec

from tests.ingest.conftest import status

Maker = Callable[[random.Random, str, int], tuple[str, bytes]]


def _valid_doc(seq: int) -> dict[str, object]:
    return msgspec.json.decode(status(seq, 1763800000123))  # type: ignore[no-any-return]


def random_bytes(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    return f"{root}/elevators/M{i % 50}/status", rng.randbytes(rng.randint(1, 300))


def truncated(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    raw = status(i, 1763800000123)
    return f"{root}/elevators/M{i % 50}/status", raw[: rng.randint(1, len(raw) - 1)]


def deep(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    depth = rng.randint(2000, 20000)
    return f"{root}/elevators/M{i % 50}/event", b'{"a":' * depth + b"1" + b"}" * depth


def wrong_type(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    doc = _valid_doc(i)
    field = rng.choice(["seq", "floor", "door_zone", "speed", "service_mode", "ts"])
    wrong = [[1], {"x": 1}, "text", None] + ([1] if field == "door_zone" else [True])
    doc[field] = rng.choice(wrong)
    return f"{root}/elevators/M{i % 50}/status", msgspec.json.encode(doc)


def nan(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    value = rng.choice([b"NaN", b"Infinity", b"-Infinity"])
    raw = status(i, 1763800000123).replace(b'"speed":0.0', b'"speed":' + value)
    return f"{root}/elevators/M{i % 50}/status", raw


def huge_number(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    doc = _valid_doc(i)
    doc[rng.choice(["seq", "floor", "speed", "ts"])] = rng.choice([10**30, -(10**25), 1e300])
    return f"{root}/elevators/M{i % 50}/status", msgspec.json.encode(doc)


def bad_utf8(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    raw = status(i, 1763800000123).replace(b'"normal"', b'"norm\xff\xfeal"')
    return f"{root}/elevators/M{i % 50}/status", raw


def unknown_enum(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    doc = _valid_doc(i)
    field = rng.choice(["service_mode", "run_state", "door_state", "direction"])
    doc[field] = rng.choice(["party", "NORMAL", "", "sideways"])
    return f"{root}/elevators/M{i % 50}/status", msgspec.json.encode(doc)


def odd_topic(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    bad_id = rng.choice(["bad id", "电梯", "x" * 65, "per%cent", "semi;colon", ""])
    return f"{root}/elevators/{bad_id}/status", status(i, 1763800000123)


def bad_availability(rng: random.Random, root: str, i: int) -> tuple[str, bytes]:
    payload = rng.choice([b"maybe", b"", b"\xff", b"ONLINE!"])
    return f"{root}/elevators/M{i % 50}/availability", payload


KINDS: list[Maker] = [
    random_bytes, truncated, deep, wrong_type, nan, huge_number, bad_utf8, unknown_enum,
    odd_topic, bad_availability,
]  # fmt: skip


def malformed(root: str, n: int, seed: int = 3) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    return [KINDS[i % len(KINDS)](rng, root, i) for i in range(n)]
