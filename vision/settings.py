"""Settings of the kitchen vision worker (section `[vision]`, env `BW_VISION__...`)."""

from __future__ import annotations

from pydantic import BaseModel


class VisionSettings(BaseModel):
    """Detector backends, class-to-violation mappings, confirmation defaults, cameras."""
