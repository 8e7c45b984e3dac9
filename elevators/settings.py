"""Settings of the elevator rules (section `[elevators]`, env `BW_ELEVATORS__...`)."""

from __future__ import annotations

from pydantic import BaseModel


class ElevatorSettings(BaseModel):
    """Fleet defaults and per-elevator overrides of the fault thresholds."""
