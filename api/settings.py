"""Settings of the HTTP app (section `[api]`, env `BW_API__...`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApiSettings(BaseModel):
    public_rate_per_minute: int = Field(
        120,
        ge=1,
        title="Public rate limit",
        description="Requests per minute one client address may make to /public routes.",
    )
    list_limit_max: int = Field(
        1000,
        ge=1,
        le=100_000,
        title="Largest page",
        description="Most rows one list call returns.",
    )
