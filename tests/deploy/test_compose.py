"""compose.yaml: validated against the compose-spec JSON schema (vendored by the
check-jsonschema package, so no network), plus the production rules of issue 6: every
brightwatch component a separate service with a health check and a restart policy, no
secret written in the file, every variable documented in .env.example, Mosquitto locked
down, Grafana provisioned."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from brightwatch.components import COMPONENTS

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"
# compose service -> the component it runs (brightwatch.components)
BW_SERVICES = {
    "ingest": "ingest",
    "rules": "elevators",
    "vision": "vision",
    "alerts": "alerts",
    "api": "api",
}
VAR = re.compile(
    r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$", re.I)


def env_example() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def interpolate(value: Any, env: dict[str, str], seen: set[str]) -> Any:
    """Compose's variable interpolation (compose-spec 12-interpolation.md)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env, seen) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, seen) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        seen.add(name)
        op, arg = m.group(2), m.group(3)
        current = env.get(name)
        if op in (":-", "-"):
            if current is None or (op == ":-" and current == ""):
                return arg
        elif op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise KeyError(f"{name}: {arg}")
        return current or ""

    return VAR.sub(sub, value)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def filled_env() -> dict[str, str]:
    # what an operator's .env looks like: every empty secret filled in
    return {k: v or f"filled-{k.lower()}" for k, v in env_example().items()}


@pytest.fixture(scope="module")
def resolved(raw: dict[str, Any], filled_env: dict[str, str]) -> dict[str, Any]:
    return interpolate(raw, filled_env, set())  # type: ignore[no-any-return]


def test_validates_against_compose_spec_schema(resolved: dict[str, Any]) -> None:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    done = subprocess.run(
        [exe, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # and the file as compose sees it after interpolation
    import jsonschema
    from check_jsonschema.builtin_schemas import get_builtin_schema

    schema = get_builtin_schema("vendor.compose-spec")
    jsonschema.Draft202012Validator(schema).validate(resolved)


def test_schema_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    bad.write_text(
        "services:\n  api:\n    image: x\n    restart: sometimes\n    healthcheck: yes\n"
    )
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    done = subprocess.run(
        [exe, "--builtin-schema", "vendor.compose-spec", str(bad)], capture_output=True, timeout=60
    )
    assert done.returncode != 0


def test_every_variable_is_in_env_example_and_secrets_are_required(raw: dict[str, Any]) -> None:
    seen: set[str] = set()
    example = env_example()
    with pytest.raises(KeyError):  # an empty .env stops compose on the first secret
        interpolate(raw, {}, seen)
    seen.clear()
    interpolate(raw, {k: "x" for k in example}, seen)
    assert seen - set(example) == set(), "variables used in compose.yaml but not in .env.example"
    for name in seen:
        if SECRET_KEY.search(name):
            assert example[name] == "", f".env.example must not carry a value for {name}"
            assert re.search(r"\$\{" + name + r":\?", COMPOSE.read_text()), (
                f"{name} must be required (${{{name}:?...}}), not defaulted"
            )


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.partition("=")[::2] for e in env)
    return {str(k): str(v) for k, v in env.items()}


def test_no_literal_secrets(raw: dict[str, Any]) -> None:
    for name, service in raw["services"].items():
        for key, value in _environment(service).items():
            if SECRET_KEY.search(key):
                assert value.startswith("${"), f"{name}.{key} is written in the file"
            for m in re.finditer(r"://([^:/@]+):([^@]*)@", value):
                assert m.group(2).startswith("${"), f"{name}.{key} has a literal password"
    text = COMPOSE.read_text()
    assert "env_file: .env" not in text  # secrets reach a container only by name


def test_brightwatch_components_are_separate_services(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    for name, component in BW_SERVICES.items():
        s = services[name]
        assert component in COMPONENTS
        assert s["command"] == ["brightwatch", "serve", "--components", component]
        assert s["restart"] in ("unless-stopped", "always"), name
        hc = s["healthcheck"]
        assert not hc.get("disable") and hc["test"][0] in ("CMD", "CMD-SHELL"), name
        assert s["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert s["depends_on"]["mosquitto"]["condition"] == "service_healthy"
        env = _environment(s)
        assert env["BW_DATABASE_URL"].startswith("postgresql://")
        # each service logs into the broker as its own user (broker-config's service users)
        user = env["BW_MQTT_URL"].split("://")[1].split(":")[0]
        assert user == f"service%2F{'rules' if name == 'rules' else name}"
        assert env["BW_UNKNOWN_DEVICES"] == "quarantine"  # interfaces.md: production default
        assert any(str(v).endswith(":/data") for v in s["volumes"])
    assert "--http" in services["api"]["healthcheck"]["test"]
    for one_shot in ("migrate", "broker-config"):
        assert services[one_shot]["restart"] == "no"


def test_infrastructure_services(resolved: dict[str, Any]) -> None:
    s = resolved["services"]
    assert s["timescaledb"]["image"].startswith("timescale/timescaledb:")
    assert s["mosquitto"]["image"].startswith("eclipse-mosquitto:")
    assert s["grafana"]["image"].startswith("grafana/grafana")
    for name in ("timescaledb", "mosquitto", "grafana"):
        assert s[name]["restart"] == "unless-stopped" and "test" in s[name]["healthcheck"]
    mounts = s["grafana"]["volumes"]
    assert "./dashboards/provisioning:/etc/grafana/provisioning:ro" in mounts
    for mount in s["grafana"]["volumes"] + s["mosquitto"]["volumes"] + s["timescaledb"]["volumes"]:
        src = mount.split(":")[0]
        if src.startswith("./"):
            assert (REPO / src).exists(), f"{src} is mounted but not in the repository"
    named = {m.split(":")[0] for svc in s.values() for m in svc.get("volumes", [])}
    assert {n for n in named if not n.startswith(("./", "/"))} <= set(resolved["volumes"])
    # broker-config writes where mosquitto reads
    conf = (REPO / "deploy/mosquitto/mosquitto.conf").read_text()
    assert re.search(r"^allow_anonymous false$", conf, re.M)
    assert "mosquitto-auth:/mosquitto-auth" in s["broker-config"]["volumes"]
    assert "mosquitto-auth:/mosquitto/auth:ro" in s["mosquitto"]["volumes"]
    assert "/mosquitto/auth/passwd" in conf and "/mosquitto/auth/acl" in conf
