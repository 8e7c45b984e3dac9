"""`brightwatch` starts without the libraries only some commands use: the settings name an
MQTT consumer kind, a database plan and alert channels without importing paho-mqtt,
psycopg or httpx, and the CLI loads its command modules without them (about 0.45 s of
start-up on the 2-core dev machine, `brightwatch --help` 1.45 -> 0.98 s). Each check runs
in a fresh interpreter, since this test process has imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# imported by the commands that use them, on first use
LATER = ("psycopg", "httpx", "paho.mqtt.client", "prometheus_client", "cv2")


def modules_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import brightwatch.cli",
        "from brightwatch.settings import load_settings; load_settings()",
    ],
)
def test_start_up_imports_none_of_the_libraries_of_single_commands(code: str) -> None:
    loaded = modules_after(code)
    assert "brightwatch.settings" in loaded
    assert [m for m in LATER if m in loaded] == []


def test_the_first_use_of_channels_registers_every_plugin() -> None:
    code = (
        "from brightwatch.alerts.channels import CHANNELS, PLUGINS, known_channels\n"
        "assert sorted(CHANNELS) == sorted(PLUGINS) == sorted(known_channels()), CHANNELS"
    )
    assert "httpx" in modules_after(code)  # the plugins were imported


def test_the_demo_scenario_help_still_lists_the_scenarios() -> None:
    """The list is read when the help is shown, no longer when the CLI starts."""
    out = subprocess.run(
        [sys.executable, "-m", "brightwatch", "demo", "scenario", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Scenarios:" in out.stdout and "no_mask" in out.stdout and "trapped" in out.stdout
