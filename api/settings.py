"""Settings of the HTTP app (section `[api]`, env `BW_API__...`)."""

from __future__ import annotations

from pathlib import Path

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
    public_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s]+[^/\s]$",
        title="Public base URL",
        description="Where the public reaches the app (https://kitchens.example.gov); the shop-window QR code points there. Unset: the address of the request.",
    )
    public_refresh_s: float = Field(
        10.0,
        ge=1,
        le=3600,
        title="Public picture refresh",
        description="A camera's privacy-filtered public picture is recomputed at most this often (the delay kitchens.md allows).",
    )
    public_max_width: int = Field(
        960,
        ge=160,
        le=1920,
        title="Public picture width",
        description="Public pictures are down-sampled to at most this many pixels wide before the face search.",
    )
    public_snapshot_max_age_s: float = Field(
        600.0,
        ge=5,
        title="Public picture freshness",
        description="A camera's latest frame older than this is not shown as live.",
    )
    face_model: Path | None = Field(
        None,
        title="Face model",
        description="BlazeFace ONNX file for blurring faces on public pictures; unset: BW_DATA_DIR/models/face or models-local/face (scripts/fetch-face-model.sh).",
    )
    workers: int | None = Field(
        None,
        ge=1,
        le=64,
        title="API worker processes",
        description="Processes serving the API under `brightwatch serve`, sharing its address; unset: one per CPU the process may use. The demo always runs one.",
    )
    live_poll_s: float = Field(
        2.0,
        ge=0.2,
        le=60,
        title="Live stream fallback poll",
        description="The live alert stream reads new alert events as soon as the broker announces an alert change, and at least this often otherwise (every second while the broker is away).",
    )
