"""What the rule engine reads: one terminal's messages, with device time in epoch ms.

The adapter that feeds the engine (the rules worker, a replay, a test) decodes the MQTT
payloads with `contract.payloads` and wraps them here; availability messages carry no
time of their own, so the adapter stamps them with its estimate of the device's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from brightwatch.contract.payloads import ElevatorEvent, ElevatorStats, ElevatorStatus


@dataclass(frozen=True, slots=True)
class StatusIn:
    ts: int  # device time, epoch ms
    seq: int
    status: ElevatorStatus


@dataclass(frozen=True, slots=True)
class EventIn:
    ts: int
    seq: int
    event: ElevatorEvent


@dataclass(frozen=True, slots=True)
class StatsIn:
    ts: int
    seq: int
    stats: ElevatorStats


@dataclass(frozen=True, slots=True)
class AvailabilityIn:
    ts: int  # the adapter's estimate of device time at receipt
    online: bool


Message = StatusIn | EventIn | StatsIn | AvailabilityIn


def to_ms(ts: datetime) -> int:
    return round(ts.timestamp() * 1000)
