"""Device presence: last seen, newest sample, message and sequence-gap counts (pure).

interfaces.md: `seq` increases by one per message of any kind and restarts at 0 after
a reboot. A device's gaps are the sequence numbers that never arrived:

- a message newer (by device time) than the newest one so far, with a higher `seq`,
  adds the numbers skipped in between;
- a newer message with a lower `seq` is a reboot: the numbers before it in the new
  boot are missing (none when it restarts at 0, as it should);
- an older message arriving late (a spool replayed after an outage, a redelivery that
  overtook) fills one number that was counted missing when the newer one arrived;
- duplicates are not counted at all: only rows actually stored reach this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Presence:
    """What device_presence holds for one device (the columns ingest maintains)."""

    last_seen: datetime | None = None  # server time of the last message
    last_ts: datetime | None = None  # device time of the newest message
    last_seq: int | None = None  # its seq
    messages: int = 0  # messages stored
    seq_gaps: int = 0
    last_status_at: datetime | None = None  # device time of last_status


def gap(previous_seq: int, seq: int) -> int:
    """Sequence numbers missing between two messages in device-time order."""
    if seq > previous_seq:
        return seq - previous_seq - 1
    if seq < previous_seq:
        return seq  # reboot: 0 .. seq-1 of the new boot never came
    return 0


def advance(
    prior: Presence, stored: Iterable[tuple[datetime, int]], last_seen: datetime | None
) -> Presence:
    """The presence after the messages `stored` (device time, seq) of one batch.

    `last_seen` is the newest receive time of any message of the device in the batch,
    duplicates and availability reports included (they prove the device is alive).
    """
    last_ts, last_seq, gaps, count = prior.last_ts, prior.last_seq, prior.seq_gaps, prior.messages
    for ts, seq in sorted(stored):
        count += 1
        if last_ts is None or last_seq is None:
            last_ts, last_seq = ts, seq
        elif ts >= last_ts:
            gaps += gap(last_seq, seq)
            last_ts, last_seq = ts, seq
        elif gaps > 0:
            gaps -= 1  # late, not lost
    seen = prior.last_seen
    if last_seen is not None and (seen is None or last_seen > seen):
        seen = last_seen
    return replace(
        prior, last_seen=seen, last_ts=last_ts, last_seq=last_seq, messages=count, seq_gaps=gaps
    )
