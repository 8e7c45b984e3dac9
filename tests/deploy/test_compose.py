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
# compose service -> the component it runs (brightwatch.components): one service per replica
BW_SERVICES = {
    "ingest-0": "ingest",
    "ingest-1": "ingest",
    "rules-0": "elevators",
    "rules-1": "elevators",
    "rules-2": "elevators",
    "vision-0": "vision",
    "alerts-0": "alerts",
    "alerts-1": "alerts",
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
        assert user == f"service%2F{name.split('-')[0]}"
        assert env["BW_UNKNOWN_DEVICES"] == "quarantine"  # interfaces.md: production default
        assert any(str(v).endswith(":/data") for v in s["volumes"])
    assert "--http" in services["api"]["healthcheck"]["test"]
    for one_shot in ("migrate", "broker-config"):
        assert services[one_shot]["restart"] == "no"


def test_replicas_have_stable_names_and_share_their_work(resolved: dict[str, Any]) -> None:
    """Every replica its own BW_INSTANCE (sessions, leases); ingest replicas one shared
    group; rules and vision replicas partitions (the same count), no shared group."""
    services = resolved["services"]
    envs = {name: _environment(services[name]) for name in BW_SERVICES if name != "api"}
    instances = [env["BW_INSTANCE"] for env in envs.values()]
    assert len(set(instances)) == len(instances)
    assert all(env["BW_INSTANCE"] == name for name, env in envs.items())
    assert {envs[n]["BW_SHARE_GROUP"] for n in ("ingest-0", "ingest-1")} == {"ingest"}
    counts = {envs[n]["BW_ELEVATORS__PARTITIONS"] for n in ("rules-0", "rules-1", "rules-2")}
    assert len(counts) == 1 and int(counts.pop()) >= 3
    assert int(envs["vision-0"]["BW_VISION__PARTITIONS"]) >= 1
    for name in ("rules-0", "rules-1", "rules-2", "vision-0"):
        assert "BW_SHARE_GROUP" not in envs[name], name


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


# ------------------------------------------------------------------ TLS (issue 16)

PLAIN_PORTS = {"1883", "8000", "3000"}  # MQTT, the API and Grafana without TLS


def _published(service: dict[str, Any]) -> list[str]:
    """The container ports a service publishes ("HOST:CONTAINER" short syntax)."""
    return [str(p).rsplit(":", 1)[-1].split("/")[0] for p in service.get("ports", [])]


def test_every_service_speaks_mqtts_with_the_ca(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    with_mqtt = {n: s for n, s in services.items() if "BW_MQTT_URL" in _environment(s)}
    assert set(BW_SERVICES) <= set(with_mqtt)
    aliases = services["mosquitto"]["networks"]["default"]["aliases"]
    for name, s in with_mqtt.items():
        env = _environment(s)
        url = env["BW_MQTT_URL"]
        assert url.startswith("mqtts://"), f"{name}: {url.split('@')[-1]}"
        host, _, port = url.rsplit("@", 1)[1].partition(":")
        assert port == "8883", name
        # the name the services check the certificate against reaches the broker
        assert host == "mosquitto" or host in aliases, name
        ca = env["BW_MQTT_CA_FILE"]
        assert any(str(v).endswith(":" + str(Path(ca).parent) + ":ro") for v in s["volumes"]), (
            f"{name}: {ca} is not mounted"
        )


def test_only_tls_ports_are_published(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    published = {n: _published(s) for n, s in services.items() if s.get("ports")}
    for name, ports in published.items():
        assert not PLAIN_PORTS & set(ports), f"{name} publishes a plain-text port"
    # devices: MQTT over TLS; people: HTTPS, port 80 only for the proxy's redirect
    assert published == {"mosquitto": ["8883"], "proxy": ["443", "80"]}
    conf = (REPO / "deploy/mosquitto/mosquitto.conf").read_text()
    listeners = re.findall(r"^listener\s+(\S+)", conf, re.M)
    assert listeners == ["8883"], "mosquitto listens on something else than TLS 8883"
    for key in ("cafile", "certfile", "keyfile"):
        assert re.search(rf"^{key} /mosquitto/tls/", conf, re.M), key
    assert re.search(r"^tls_version tlsv1\.[23]$", conf, re.M)
    # mosquitto's health check speaks TLS too
    assert "--cafile" in services["mosquitto"]["healthcheck"]["test"][1]
    assert "-p 8883" in services["mosquitto"]["healthcheck"]["test"][1]


def test_https_proxy_in_front_of_api_and_grafana(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["restart"] == "unless-stopped" and "test" in proxy["healthcheck"]
    template = "./deploy/proxy/default.conf.template"
    assert f"{template}:/etc/nginx/templates/default.conf.template:ro" in proxy["volumes"]
    assert "certs:/certs:ro" in proxy["volumes"]
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    site = (REPO / template).read_text()
    assert "http://api:8000" in site and "http://grafana:3000" in site
    assert re.search(r"listen 443 ssl;", site) and "ssl_certificate /certs/server.crt;" in site
    # port 80 answers nothing but a redirect to HTTPS (and the container's health check)
    plain = site.split("listen 80;", 1)[1].split("\nserver {", 1)[0]
    assert "return 308 https://" in plain and "proxy_pass" not in plain
    # every variable the template uses is one compose gives the nginx image to fill in
    for name in set(re.findall(r"\$\{([A-Z_]+)\}", site)):
        assert name in _environment(proxy), f"{name} is not set for the proxy"
    # the live alert stream is not buffered
    stream = site.split("location = /api/v1/alerts/stream {", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in stream
    grafana = _environment(services["grafana"])
    assert grafana["GF_SERVER_ROOT_URL"].startswith("https://")
    assert grafana["GF_SERVER_ROOT_URL"].endswith("/grafana/") and "location /grafana/" in site
    assert grafana["GF_SERVER_SERVE_FROM_SUB_PATH"] == "true"
    assert "/grafana/api/health" in services["grafana"]["healthcheck"]["test"][1]


def test_certs_job_and_timescaledb_pin(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    certs = services["certs"]
    assert certs["command"][:3] == ["brightwatch", "certs", "dev"]
    assert "--if-missing" in certs["command"]  # a bureau's own certificates are kept
    assert certs["restart"] == "no" and "certs:/certs" in certs["volumes"]
    for name in ("mosquitto", "proxy", "migrate"):
        assert services[name]["depends_on"]["certs"]["condition"] == (
            "service_completed_successfully"
        )
    # >= 2.19: columnstore option names (2.18) and ON CONFLICT into compressed chunks (2.19.0)
    tag = services["timescaledb"]["image"].split(":", 1)[1]
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", tag).groups())  # type: ignore[union-attr]
    assert (major, minor) >= (2, 19), tag
