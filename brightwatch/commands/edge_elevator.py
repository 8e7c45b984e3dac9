"""`brightwatch edge elevator-sim`: simulated elevator terminals."""

from __future__ import annotations

from brightwatch.commands import edge_group, not_yet


@edge_group().command(
    name="elevator-sim", context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
)
def elevator_sim() -> None:
    """Simulated elevator terminals publishing over MQTT."""
    not_yet("edge elevator-sim", 2)
