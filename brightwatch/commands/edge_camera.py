"""`brightwatch edge camera`: the camera agent."""

from __future__ import annotations

from brightwatch.commands import edge_group, not_yet


@edge_group().command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def camera() -> None:
    """Camera agent: frames or edge detections over MQTT, with a spool."""
    not_yet("edge camera", 4)
