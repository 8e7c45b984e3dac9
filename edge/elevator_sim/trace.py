"""Scenario traces: one terminal's messages and the alerts they must raise, as a file.

A trace is JSON Lines. The first line is the header::

    {"scenario": "trapped_out_zone", "description": "...", "elevator": "E1",
     "t0": 1763800000000, "thresholds": {"floor_min": -1, "floor_max": 18},
     "lookalike": false, "source": "simulator" | "hand-written",
     "expect": [{"code": "TRAPPED_OUT_ZONE", "severity": "P1", "raise": 130.0,
                 "started": 100.0, "within": 1.0, "clear": 190.0}]}

Each further line is one message in arrival order, `t` being its device time in seconds
after `t0`::

    {"t": 0, "status": {...every required field...}}
    {"t": 4.5, "status": {"run_state": "stopped", "speed": 0}}   (only what changed)
    {"t": 9, "event": {"code": "RUNTIME_LIMITER", "state": "raise"}}
    {"t": 9.5, "stats": {"run_count": 10}}
    {"t": 12, "availability": "offline"}
    {"t": 40, "tick": true}                 (the clock reaches t with no message)

`seq` is numbered automatically (+1 per status, event and stats message); a line may set
`"seq": n` (the count continues from n: a reboot sets 0). `"dup": true` repeats the
previous message byte for byte (a redelivery), `"replay": k` repeats the k-th device
message of the file (0-based: a batch redelivered after a crash), and `"defer": n` on a
message delivers it only after the next n device messages (out of order). `raise` in an expectation is the time the
alert must be confirmed (the fault's onset plus the rule's window); it must come no
earlier and at most `within` seconds later (default 1 s, elevators.md acceptance).
Expectations of one code match that code's raises in order (an escalation or a flap
raises twice); `started` is the condition's start the alert reports, `clear` the time
the alert must clear. A code without an expectation must not be raised at all.

May import: the standard library and msgspec only (the simulator writes traces, tests
and tools read them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_T0 = 1_763_800_000_000  # 2025-11-22 08:26:40 UTC, any fixed time will do


class TraceError(ValueError):
    """A trace file that does not follow the format; the message names the line."""


@dataclass(frozen=True)
class Expected:
    code: str
    severity: str
    raise_at: float  # seconds after t0
    within: float = 1.0
    started: float | None = None
    clear: float | None = None


@dataclass(frozen=True)
class TraceMessage:
    """One message as the terminal sent it (or a clock tick)."""

    t: float  # device time, seconds after t0
    channel: str  # status | event | stats | availability | tick
    payload: dict[str, Any] | str | None  # JSON object (with ts and seq), or online/offline

    def ts_ms(self, t0: int) -> int:
        return t0 + round(self.t * 1000)

    def body(self) -> bytes:
        if isinstance(self.payload, str):
            return self.payload.encode()
        return json.dumps(self.payload, separators=(",", ":")).encode()


@dataclass
class Trace:
    scenario: str
    description: str
    elevator: str
    t0: int
    thresholds: dict[str, Any]
    expect: list[Expected]
    messages: list[TraceMessage]
    lookalike: bool = False
    source: str = "hand-written"
    covers: list[str] = field(default_factory=list)

    @property
    def end(self) -> float:
        return max((m.t for m in self.messages), default=0.0)


REQUIRED_STATUS = (
    "service_mode",
    "run_state",
    "floor",
    "door_zone",
    "door_state",
    "has_person",
    "speed",
)


def parse(lines: Iterable[str], name: str = "<trace>") -> Trace:
    it = iter(enumerate(lines, 1))
    header: dict[str, Any] | None = None
    messages: list[TraceMessage] = []
    status: dict[str, Any] | None = None
    seq = 0
    last_device: TraceMessage | None = None
    produced: list[TraceMessage] = []
    deferred: list[list[Any]] = []  # [messages still to pass, message]
    t0 = DEFAULT_T0

    def deliver(m: TraceMessage) -> None:
        messages.append(m)
        if m.channel in ("tick", "availability"):
            return
        for entry in deferred:
            entry[0] -= 1
        for entry in [e for e in deferred if e[0] <= 0]:
            deferred.remove(entry)
            messages.append(entry[1])

    for lineno, raw in it:
        line = raw.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TraceError(f"{name}:{lineno}: not JSON: {exc}") from None
        if header is None:
            if "scenario" not in obj:
                raise TraceError(f"{name}:{lineno}: the first line must be the header")
            header = obj
            t0 = int(obj.get("t0", DEFAULT_T0))
            continue
        if "t" not in obj:
            raise TraceError(f"{name}:{lineno}: every message needs `t`")
        t = float(obj["t"])
        if obj.get("dup"):
            if last_device is None:
                raise TraceError(f"{name}:{lineno}: `dup` before any message")
            deliver(TraceMessage(t, last_device.channel, last_device.payload))
            continue
        if "replay" in obj:
            k = int(obj["replay"])
            if not 0 <= k < len(produced):
                raise TraceError(f"{name}:{lineno}: no device message {k} to replay")
            deliver(TraceMessage(t, produced[k].channel, produced[k].payload))
            continue
        if obj.get("tick"):
            messages.append(TraceMessage(t, "tick", None))
            continue
        if "availability" in obj:
            value = obj["availability"]
            if value not in ("online", "offline"):
                raise TraceError(f"{name}:{lineno}: availability must be online or offline")
            messages.append(TraceMessage(t, "availability", value))
            continue
        if "seq" in obj:
            seq = int(obj["seq"])
        ts = t0 + round(t * 1000)
        if "status" in obj:
            delta = obj["status"]
            status = dict(delta) if status is None else {**status, **delta}
            missing = [f for f in REQUIRED_STATUS if f not in status]
            if missing:
                raise TraceError(f"{name}:{lineno}: first status lacks {', '.join(missing)}")
            payload: dict[str, Any] = {"ts": ts, "seq": seq, **status}
            channel = "status"
        elif "event" in obj:
            payload = {"ts": ts, "seq": seq, **obj["event"]}
            channel = "event"
        elif "stats" in obj:
            payload = {"ts": ts, "seq": seq, **obj["stats"]}
            channel = "stats"
        else:
            raise TraceError(
                f"{name}:{lineno}: expected status, event, stats, availability or tick"
            )
        seq += 1
        last_device = TraceMessage(t, channel, payload)
        produced.append(last_device)
        if obj.get("defer"):
            deferred.append([int(obj["defer"]), last_device])
        else:
            deliver(last_device)
    if deferred:
        raise TraceError(f"{name}: deferred messages never delivered")
    if header is None:
        raise TraceError(f"{name}: empty trace")
    expect = [
        Expected(
            code=e["code"],
            severity=e["severity"],
            raise_at=float(e["raise"]),
            within=float(e.get("within", 1.0)),
            started=None if e.get("started") is None else float(e["started"]),
            clear=None if e.get("clear") is None else float(e["clear"]),
        )
        for e in header.get("expect", [])
    ]
    return Trace(
        scenario=header["scenario"],
        description=header.get("description", ""),
        elevator=header.get("elevator", "E-TRACE"),
        t0=t0,
        thresholds=header.get("thresholds", {}),
        expect=expect,
        messages=messages,
        lookalike=bool(header.get("lookalike", False)),
        source=header.get("source", "hand-written"),
        covers=list(header.get("covers", [e.code for e in expect])),
    )


def load(path: Path) -> Trace:
    with path.open(encoding="utf-8") as fh:
        return parse(fh, path.name)


def dumps(trace: Trace) -> str:
    """Write a trace with status deltas (the inverse of `parse`, up to formatting)."""
    header: dict[str, Any] = {
        "scenario": trace.scenario,
        "description": trace.description,
        "elevator": trace.elevator,
        "t0": trace.t0,
        "source": trace.source,
        "lookalike": trace.lookalike,
        "covers": trace.covers,
        "thresholds": trace.thresholds,
        "expect": [_expect_dict(e) for e in trace.expect],
    }
    out = [json.dumps(header, ensure_ascii=False)]
    status: dict[str, Any] | None = None
    seq = 0
    for m in trace.messages:
        line: dict[str, Any] = {"t": round(m.t, 3)}
        if m.channel == "tick":
            line["tick"] = True
        elif m.channel == "availability":
            line["availability"] = m.payload
        else:
            assert isinstance(m.payload, dict)
            body = {k: v for k, v in m.payload.items() if k not in ("ts", "seq")}
            if m.payload["seq"] != seq:
                line["seq"] = m.payload["seq"]
            seq = m.payload["seq"] + 1
            if m.channel == "status":
                delta = (
                    body
                    if status is None
                    else {k: v for k, v in body.items() if status.get(k) != v}
                )
                status = body
                line["status"] = delta
            else:
                line[m.channel] = body
        out.append(json.dumps(line, separators=(",", ":"), ensure_ascii=False))
    return "\n".join(out) + "\n"


def _expect_dict(e: Expected) -> dict[str, Any]:
    d: dict[str, Any] = {"code": e.code, "severity": e.severity, "raise": e.raise_at}
    if e.within != 1.0:
        d["within"] = e.within
    if e.started is not None:
        d["started"] = e.started
    if e.clear is not None:
        d["clear"] = e.clear
    return d


def iter_device_messages(trace: Trace) -> Iterator[TraceMessage]:
    return (m for m in trace.messages if m.channel != "tick")
