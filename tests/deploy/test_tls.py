"""TLS end to end (issue 16): `brightwatch certs dev`, the deployed mosquitto configuration
with its TLS listener only, the service and an edge agent on mqtts:// with the CA file,
clients without TLS or with another CA refused, and the HTTPS proxy's nginx
configuration checked and run in front of a real API.

compose cannot run here, so each deployed configuration runs natively: deploy/ files
rendered onto temporary paths and free loopback ports (tests/support/tls.py).
"""

from __future__ import annotations

import csv
import http.client
import os
import socket
import ssl
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from brightwatch.commands.certs import DEFAULT_HOSTS, CertsError, make_dev_certs
from brightwatch.embedded import free_port
from brightwatch.registry import store
from brightwatch.registry.models import ElevatorRecord
from brightwatch.settings import Settings
from tests.ingest.conftest import ingest_running
from tests.support.tls import (
    REPO,
    Proxy,
    TlsBroker,
    client_context,
    dev_certs,
    install_broker_certs,
    nginx_missing,
)
from tests.support.waiting import wait_until

needs_mosquitto = pytest.mark.skipif(
    subprocess.run(["sh", "-c", "command -v mosquitto"], capture_output=True).returncode != 0,
    reason="needs the mosquitto broker (scripts/system-deps.sh)",
)
ELEVATOR = "31010900000000000000"  # `edge elevator-sim --count 1`'s first terminal
PASSWORDS = {"MQTT_INGEST_PASSWORD": "ingest-pw", "MQTT_HEALTH_PASSWORD": "health-pw"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dev_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second CA, which signed nothing the broker presents."""
    return dev_certs(tmp_path_factory.mktemp("other")) / "ca.crt"


def _san(cert: Path) -> str:
    return subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


# ------------------------------------------------------------------ brightwatch certs dev


def test_certs_dev_writes_a_ca_and_a_server_certificate(certs: Path, tmp_path: Path) -> None:
    modes = {p.name: p.stat().st_mode & 0o777 for p in certs.iterdir()}
    assert modes == {"ca.crt": 0o644, "ca.key": 0o600, "server.crt": 0o644, "server.key": 0o600}
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(certs / "ca.crt"), str(certs / "server.crt")],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    san = _san(certs / "server.crt")
    for name in ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"):
        assert name in san
    for service in ("mosquitto", "proxy", "api", "grafana"):
        assert f"DNS:{service}" in san

    # --host adds names; a CA already there is kept unless --force
    out = dev_certs(tmp_path / "c", "--host", "mqtt.city.example", "--host", "10.1.2.3")
    first_ca = (out / "ca.crt").read_bytes()
    assert "DNS:mqtt.city.example" in _san(out / "server.crt")
    assert "IP Address:10.1.2.3" in _san(out / "server.crt")
    with pytest.raises(CertsError, match="already holds a CA"):
        make_dev_certs(out)
    assert (out / "ca.crt").read_bytes() == first_ca
    dev_certs(out, "--if-missing")  # the compose job on a second start: nothing changes
    assert (out / "ca.crt").read_bytes() == first_ca
    dev_certs(out, "--force")
    assert (out / "ca.crt").read_bytes() != first_ca
    # --renew: a new server certificate from the same CA (devices keep their ca.crt)
    ca, server = (out / "ca.crt").read_bytes(), (out / "server.crt").read_bytes()
    dev_certs(out, "--renew", "--host", "renamed.example")
    assert (out / "ca.crt").read_bytes() == ca and (out / "server.crt").read_bytes() != server
    assert "DNS:renamed.example" in _san(out / "server.crt")
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(out / "ca.crt"), str(out / "server.crt")],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert (out / "server.key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(CertsError, match="no CA to renew"):
        make_dev_certs(tmp_path / "e", renew=True)
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "work files left behind"
    with pytest.raises(CertsError, match="not a host name"):
        make_dev_certs(tmp_path / "d", ["bad name,DNS:evil"])
    assert not (tmp_path / "d" / "ca.crt").exists()
    assert set(DEFAULT_HOSTS) >= {"localhost", "mosquitto", "proxy", "api", "grafana"}


# ------------------------------------------------------------------ mosquitto over TLS


def _register(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        store.upsert_elevator(conn, ELEVATOR, ElevatorRecord())


def _broker_config(db_url: str, root: str, out: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BW_", "MQTT_"))}
    env.update(BW_DATABASE_URL=db_url, BW_TOPIC_ROOT=root, **PASSWORDS)
    done = subprocess.run(
        [sys.executable, "-m", "brightwatch", "broker-config", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with (out / "credentials.csv").open() as f:
        return {r["username"]: r["password"] for r in csv.DictReader(f)}


def _run_cli(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "brightwatch", *args],
        cwd=REPO,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _connack(sock: socket.socket) -> bytes:
    """Send an MQTT 3.1.1 CONNECT and return what comes back (b"" when the broker
    hangs up)."""
    client_id = b"tls-probe"
    body = b"\x00\x04MQTT\x04\x02\x00\x1e" + len(client_id).to_bytes(2, "big") + client_id
    sock.sendall(bytes([0x10, len(body)]) + body)
    try:
        return sock.recv(16)
    except (ConnectionResetError, ssl.SSLError):
        return b""


def _compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "compose.yaml").read_text())  # type: ignore[no-any-return]


@needs_mosquitto
@pytest.mark.parametrize("client", ["stream", "paho"])
def test_service_and_edge_agent_on_mqtts(
    client: str,
    certs: Path,
    other_ca: Path,
    db_url: str,
    topic_root: str,
    tmp_path: Path,
) -> None:
    """The deployed broker configuration (TLS listener only, passwords and ACLs from
    broker-config): the edge agent publishes a status over mqtts:// with the CA file, the
    ingest component (both its MQTT clients) stores it; plain TCP and another CA are
    refused; the compose health checks pass over TLS."""
    _register(db_url)
    passwords = _broker_config(db_url, topic_root, tmp_path / "auth")
    tls_dir = install_broker_certs(certs, tmp_path / "tls")
    assert {p.name: p.stat().st_mode & 0o777 for p in tls_dir.iterdir()} == dict.fromkeys(
        ("ca.crt", "server.crt", "server.key"), 0o600
    )
    ca = certs / "ca.crt"
    broker = TlsBroker(tmp_path / "mqtt", tls_dir, tmp_path / "auth")
    with broker.running():
        port = broker.port
        # plain MQTT on the TLS port: the broker hangs up, never a CONNACK
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            assert _connack(raw) == b""
        # TLS with another CA, or without one (the system's CAs): the client refuses
        for wrong in (client_context(other_ca), client_context(None)):
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                pytest.raises(ssl.SSLCertVerificationError),
            ):
                wrong.wrap_socket(raw, server_hostname="localhost")
        # the right CA, but a name the certificate does not carry
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            client_context(ca).wrap_socket(raw, server_hostname="elsewhere.example")
        # the right CA: an MQTT session (anonymous, so the broker answers "not authorised")
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client_context(ca).wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert _connack(tls)[:1] == b"\x20"

        # compose's mosquitto health check, as its container runs it
        test = _compose()["services"]["mosquitto"]["healthcheck"]["test"]
        assert test[0] == "CMD-SHELL" and "--cafile" in test[1]
        command = test[1].replace("$$", "$").replace("-p 8883", f"-p {port}")
        command = command.replace("/mosquitto/tls/", f"{tls_dir}/")
        health = subprocess.run(
            ["sh", "-c", command],
            env={**os.environ, "MQTT_TLS_HOST": "localhost", "MQTT_HEALTH_PASSWORD": "health-pw"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert health.returncode == 0 and "seconds" in health.stdout, health.stderr

        url = f"mqtts://service%2Fingest:ingest-pw@localhost:{port}"
        settings = Settings(
            database_url=db_url,
            mqtt_url=url,
            mqtt_ca_file=ca,
            topic_root=topic_root,
            data_dir=tmp_path / "data",
            unknown_devices="quarantine",
            instance=f"tls-{uuid.uuid4().hex[:6]}",
        )
        settings.ingest.mqtt_client = client  # type: ignore[assignment]
        with ingest_running(settings):
            device = f"elevator%2F{ELEVATOR}:{passwords['elevator/' + ELEVATOR]}"
            agent = _run_cli(
                {
                    "BW_MQTT_URL": f"mqtts://{device}@localhost:{port}",
                    "BW_MQTT_CA_FILE": str(ca),
                    "BW_TOPIC_ROOT": topic_root,
                    "BW_DATA_DIR": str(tmp_path / "edge"),
                },
                "edge", "elevator-sim", "--count", "1", "--speed", "60", "--duration", "60",
            )  # fmt: skip
            assert agent.returncode == 0, agent.stderr[-2000:]

            def stored() -> int:
                with psycopg.connect(db_url) as conn:
                    row = conn.execute(
                        "SELECT count(*) FROM elevator_status WHERE elevator_id = %s", (ELEVATOR,)
                    ).fetchone()
                return row[0] if row else 0

            wait_until(lambda: stored() > 0, timeout=20, what="the agent's status stored")

        # a service's compose health check (`brightwatch healthcheck`) over TLS
        check = _run_cli(
            {
                "BW_DATABASE_URL": db_url,
                "BW_MQTT_URL": f"mqtts://service%2Fhealth:health-pw@localhost:{port}",
                "BW_MQTT_CA_FILE": str(ca),
            },
            "healthcheck",
        )
        assert check.returncode == 0 and check.stdout.strip() == "ok", check.stderr
        # ... which fails when the broker's certificate is not the CA's
        check = _run_cli(
            {
                "BW_DATABASE_URL": db_url,
                "BW_MQTT_URL": f"mqtts://service%2Fhealth:health-pw@localhost:{port}",
                "BW_MQTT_CA_FILE": str(other_ca),
            },
            "healthcheck",
        )
        assert check.returncode == 1 and "broker" in check.stderr


def test_broker_start_script_refuses_missing_certificates(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    done = subprocess.run(
        ["sh", str(REPO / "deploy/mosquitto/start.sh"), "true"],
        env={**os.environ, "CERTS_SRC": str(tmp_path / "src"), "CERTS_DST": str(tmp_path / "d")},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1 and "ca.crt is missing" in done.stderr


# ------------------------------------------------------------------ the HTTPS proxy


@pytest.fixture
def proxy_ready() -> None:
    reason = nginx_missing()
    if reason:
        pytest.skip(reason)


def test_proxy_configuration_passes_nginx_check(
    proxy_ready: None, certs: Path, tmp_path: Path
) -> None:
    proxy = Proxy(tmp_path / "nginx", certs, f"127.0.0.1:{free_port()}", "127.0.0.1:9")
    done = proxy.check()
    assert done.returncode == 0, done.stderr
    # and the check can fail: a certificate path that does not exist
    broken = Proxy(tmp_path / "broken", tmp_path / "none", "127.0.0.1:1", "127.0.0.1:9")
    assert broken.check().returncode != 0


def test_proxy_serves_the_api_over_https_and_redirects_http(
    proxy_ready: None, certs: Path, tmp_path: Path, settings: Settings, db_url: str
) -> None:
    from brightwatch.api.auth import create_token
    from brightwatch.wiring import build_runtime
    from tests.web.browser import serve  # the API under uvicorn in a thread

    with psycopg.connect(db_url) as conn:
        _, token = create_token(conn, "admin", name="tls test")
    with serve(build_runtime(settings)) as base:
        api = base.removeprefix("http://")
        proxy = Proxy(tmp_path / "nginx", certs, api, "127.0.0.1:9")
        with proxy.running():
            https = http.client.HTTPSConnection(
                "localhost", proxy.https_port, context=client_context(certs / "ca.crt"), timeout=15
            )
            https.request("GET", "/healthz?scope=process")
            answer = https.getresponse()
            assert answer.status == 200, answer.read()
            assert answer.getheader("Strict-Transport-Security")
            answer.read()
            # the live alert stream comes through as it is written
            https.request(
                "GET", "/api/v1/alerts/stream", headers={"Authorization": f"Bearer {token}"}
            )
            stream = https.getresponse()
            assert stream.status == 200
            assert stream.getheader("Content-Type", "").startswith("text/event-stream")
            assert stream.readline().startswith(b"retry:")
            https.close()

            plain = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=15)
            plain.request("POST", "/api/v1/tokens?x=1", body=b"{}")
            moved = plain.getresponse()
            assert moved.status == 308
            assert moved.getheader("Location") == (
                f"https://127.0.0.1:{proxy.https_port}/api/v1/tokens?x=1"
            )
            moved.read()
            # the container's health check (compose.yaml) is the one plain answer
            plain.request("GET", "/proxy-health")
            health = plain.getresponse()
            assert (health.status, health.read()) == (200, b"ok\n")
            plain.close()
            # a client that does not trust the CA does not get through
            with pytest.raises(ssl.SSLCertVerificationError):
                refused = http.client.HTTPSConnection(
                    "localhost", proxy.https_port, context=client_context(None), timeout=15
                )
                refused.request("GET", "/healthz")
