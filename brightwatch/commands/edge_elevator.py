"""`brightwatch edge elevator-sim`: simulated elevator terminals publishing over MQTT."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brightwatch.commands import edge_group


@edge_group().command(name="elevator-sim")
@click.option(
    "--count",
    type=click.IntRange(1, 1_000_000),
    default=1,
    show_default=True,
    help="Simulated elevators.",
)
@click.option(
    "--scenario", help="Inject a scenario's fault into the first elevator (see --list-scenarios)."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the fleet and its traffic."
)
@click.option(
    "--speed",
    type=click.FloatRange(0.01, 10_000),
    default=1.0,
    show_default=True,
    help="Simulated seconds per real second.",
)
@click.option(
    "--id-prefix",
    default="3101090000",
    show_default=True,
    help="Elevator ids are this prefix and a number, 20 characters in all.",
)
@click.option(
    "--connections",
    type=click.IntRange(1, 100_000),
    help="MQTT connections (default: one per terminal up to 64, then 64 pooled).",
)
@click.option(
    "--duration", type=click.FloatRange(0), help="Stop after this many simulated seconds."
)
@click.option(
    "--protocol", type=click.Choice(["5", "3.1.1"]), help="MQTT version (default BW_MQTT_PROTOCOL)."
)
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the scenario's ground truth here (JSON lines).",
)
@click.option("--list-scenarios", is_flag=True, help="List the scenarios and exit.")
def elevator_sim(
    count: int,
    scenario: str | None,
    seed: int,
    speed: float,
    id_prefix: str,
    connections: int | None,
    duration: float | None,
    protocol: str | None,
    truth: Path | None,
    list_scenarios: bool,
) -> None:
    """Simulated elevator terminals publishing over MQTT (BW_MQTT_URL, BW_TOPIC_ROOT), with a
    store-and-forward spool under BW_DATA_DIR/spool."""
    import threading

    from brightwatch.cli import settings_from_env, stop_on_signals
    from brightwatch.contract.ids import is_valid_id
    from brightwatch.edge.elevator_sim.agent import AgentConfig, ElevatorAgent
    from brightwatch.edge.elevator_sim.scenarios import ScenarioError, load_scenario
    from brightwatch.edge.elevator_sim.scenarios import list_scenarios as names
    from brightwatch.runtime import broker_of

    if list_scenarios:
        for name in names():
            listed = load_scenario(name)
            kind = (
                "look-alike"
                if listed.lookalike
                else ", ".join(sorted({e.code for e in listed.expect}))
            )
            click.echo(f"{name:28s} {kind}")
        return
    settings = settings_from_env()
    if not is_valid_id(id_prefix + "0") or len(id_prefix) > 50:
        raise click.BadParameter(
            "must be characters of [A-Za-z0-9_.-], at most 50", param_hint="--id-prefix"
        )
    try:
        scn = load_scenario(scenario) if scenario else None
    except ScenarioError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario") from None
    broker = broker_of(settings, protocol)
    agent = ElevatorAgent(
        AgentConfig(
            count=count,
            topic_root=settings.topic_root,
            data_dir=settings.data_dir,
            id_prefix=id_prefix,
            seed=seed,
            speed=speed,
            connections=connections,
            scenario=scn,
            duration_s=duration,
            spool_capacity=settings.edge.spool_max_messages,
            truth_path=truth,
        ),
        broker,
    )
    stop = threading.Event()
    with stop_on_signals(stop):
        agent.run(stop)
    sys.exit(0)
