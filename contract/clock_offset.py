"""A device's clock offset: server receive time minus the device's own timestamp.

The estimate is the smallest offset seen, allowed to rise slowly, so a burst of late
(spooled) messages barely moves it while a clock adjustment is followed. Both rule
workers (elevators, vision) turn server time into device time with it.
"""

from __future__ import annotations

# the estimate may rise by this much per second (1000 ppm of drift)
OFFSET_RISE_PER_S = 1.0


def observe_offset(
    current_ms: int | None, current_at: float, observed_ms: int, now: float
) -> tuple[int, float]:
    """The new estimate and the server time (s) it was made, after one observation."""
    if current_ms is None or observed_ms < current_ms:
        return observed_ms, now
    rise = int((now - current_at) * OFFSET_RISE_PER_S)
    return current_ms + max(0, min(observed_ms - current_ms, rise)), now


def device_time(server_ms: int, offset_ms: int | None) -> int:
    """A server time in the device's clock (no offset known yet: the same time)."""
    return server_ms - (offset_ms or 0)


def server_time(device_ms: int, offset_ms: int | None) -> int:
    """A device time in the server's clock."""
    return device_ms + (offset_ms or 0)
