"""`brightwatch demo`: everything on one machine with nothing configured;
`brightwatch demo scenario NAME`: inject one scenario into the running demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brightwatch.cli import leave, main, settings_from_env


@main.group(invoke_without_command=True)
@click.option("--elevators", default=50, show_default=True, help="Simulated elevators.")
@click.option(
    "--kitchens", default=3, show_default=True, help="Simulated kitchens (one camera each)."
)
@click.option(
    "--quiet",
    is_flag=True,
    help="No scenario player: no faults or violations are injected (only on request).",
)
@click.pass_context
def demo(ctx: click.Context, elevators: int, kitchens: int, quiet: bool) -> None:
    """Embedded PostgreSQL and MQTT broker, simulators, every component, console on :8000,
    and a scenario player that makes faults and violations happen from the first minute."""
    if ctx.invoked_subcommand is not None:
        return
    from brightwatch.demo import run_demo

    sys.exit(leave(run_demo(elevators=elevators, kitchens=kitchens, quiet=quiet)))


def _scenario_help() -> str:
    from brightwatch.scenario.player import SCENARIOS

    return "\b\nScenarios:\n" + "\n".join(f"  {n:10} {what}" for n, what in SCENARIOS.items())


class _ScenarioCommand(click.Command):
    """Its help ends with the list of scenarios, read when the help is shown: the scenario
    player imports OpenCV and paho-mqtt, which `brightwatch` does not need to start."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = _scenario_help()
        super().format_epilog(ctx, formatter)


@demo.command(cls=_ScenarioCommand)
@click.argument("name")
@click.option(
    "--mqtt-url",
    default=None,
    help="The demo's broker (default: the running demo's, read from BW_DATA_DIR/demo, "
    "else BW_MQTT_URL).",
)
@click.option(
    "--topic-root", default=None, help="Topic root (default: the demo's, else BW_TOPIC_ROOT)."
)
@click.option(
    "--timeout", default=10.0, show_default=True, help="Seconds to wait for the demo's answer."
)
def scenario(name: str, mqtt_url: str | None, topic_root: str | None, timeout: float) -> None:
    """Inject scenario NAME into the running demo (see the list below)."""
    from brightwatch.demo import read_state
    from brightwatch.mqttlink.client import parse_mqtt_url
    from brightwatch.scenario.player import SCENARIOS, inject

    if name not in SCENARIOS:
        raise click.BadParameter(f"choose from {', '.join(SCENARIOS)}", param_hint="NAME")
    settings = settings_from_env()
    state = read_state(Path(settings.data_dir)) or {}
    url = mqtt_url or state.get("mqtt_url") or settings.mqtt_url.get_secret_value()
    protocol = str(state.get("mqtt_protocol") or settings.mqtt_protocol)
    root = topic_root or str(state.get("topic_root") or settings.topic_root)
    try:
        address = parse_mqtt_url(str(url), protocol, settings.mqtt_ca_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--mqtt-url") from None
    ok, detail = inject(address, root, name, timeout)
    if not ok:
        click.echo(f"scenario {name} not injected: {detail}", err=True)
        sys.exit(1)
    click.echo(f"scenario {name} injected: {detail}")
