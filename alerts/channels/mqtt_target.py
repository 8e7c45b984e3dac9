"""Which topics an `mqtt` channel may name as its target: those the contract's table lets
the alerts component publish, below `{topic_root}` (the broker's ACL is derived from the
same table). Apart from the channel itself, so that the settings check a target without
importing paho-mqtt.

May import: contract, the standard library.
"""

from __future__ import annotations

from brightwatch.contract.topics import Role, published_by

ROOT_PLACEHOLDER = "{topic_root}"


def check_target(target: str) -> str:
    """The target, or ValueError naming it when it is not a topic the service may publish."""
    levels = target.split("/")
    allowed = published_by(Role.ALERTS)
    if levels[0] == ROOT_PLACEHOLDER and any(s.admits(levels[1:]) for s in allowed):
        return target
    declared = ", ".join(f"{ROOT_PLACEHOLDER}/{s.pattern}" for s in allowed)
    hint = (
        f" (start it with {ROOT_PLACEHOLDER}, the topic root is a setting)"
        if levels[0] != ROOT_PLACEHOLDER
        else ""
    )
    raise ValueError(
        f"mqtt target {target!r} is not a topic the service publishes, the broker would "
        f"refuse it{hint}; declared: {declared}"
    )
