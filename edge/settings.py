"""Settings of the edge agents (section `[edge]`, env `BW_EDGE__...`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EdgeSettings(BaseModel):
    spool_max_messages: int = Field(
        1_000_000,
        ge=1000,
        title="Spool capacity",
        description="Messages kept on disk while the broker is unreachable; the oldest go first beyond this.",
    )
