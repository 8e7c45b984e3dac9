"""TLS for the tests: certificates from `brightwatch certs dev`, and the deployed
mosquitto and nginx configurations (deploy/) rendered onto temporary paths and free
loopback ports, run by the real binaries."""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from brightwatch.cli import main
from brightwatch.embedded import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
MOSQUITTO_CONF = REPO / "deploy/mosquitto/mosquitto.conf"
MOSQUITTO_START = REPO / "deploy/mosquitto/start.sh"
PROXY_TEMPLATE = REPO / "deploy/proxy/default.conf.template"


def dev_certs(out: Path, *args: str) -> Path:
    """`brightwatch certs dev --out OUT ARGS...`; returns OUT."""
    done = CliRunner().invoke(main, ["certs", "dev", "--out", str(out), *args])
    assert done.exit_code == 0, done.output
    return out


def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """What the service's clients use (mqttlink.client): the CA file, hostname checked."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def install_broker_certs(certs: Path, dest: Path) -> Path:
    """deploy/mosquitto/start.sh as the container runs it: the certificates copied to
    `dest`, owned by the broker's user (here: whoever runs the tests), mode 0600."""
    done = subprocess.run(
        ["sh", str(MOSQUITTO_START), "true"],
        env={
            **os.environ,
            "CERTS_SRC": str(certs),
            "CERTS_DST": str(dest),
            "CERTS_OWNER": getpass.getuser(),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return dest


@dataclass
class TlsBroker:
    """mosquitto with deploy/mosquitto/mosquitto.conf: its TLS listener moved to
    127.0.0.1:`port`, certificates from `tls_dir`, password and ACL files from
    `auth_dir` (`brightwatch broker-config`), data in `data_dir`."""

    data_dir: Path
    tls_dir: Path
    auth_dir: Path
    port: int = field(default_factory=free_port)

    def config_text(self) -> str:
        conf = MOSQUITTO_CONF.read_text()
        assert re.search(r"^listener 8883$", conf, re.M), "the deployed listener moved"
        conf = re.sub(r"^listener 8883$", f"listener {self.port} 127.0.0.1", conf, flags=re.M)
        conf = conf.replace("/mosquitto/tls/", f"{self.tls_dir}/")
        conf = conf.replace("/mosquitto/auth/", f"{self.auth_dir}/")
        conf = conf.replace("/mosquitto/data/", f"{self.data_dir}/")
        settings = [line for line in conf.splitlines() if not line.startswith("#")]
        assert not [line for line in settings if "/mosquitto/" in line], "a container path is left"
        return conf + f"user {getpass.getuser()}\n"

    @contextlib.contextmanager
    def running(self) -> Iterator[TlsBroker]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "mosquitto.conf"
        conf.write_text(self.config_text())
        log = self.data_dir / "mosquitto.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [shutil.which("mosquitto") or "mosquitto", "-c", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            try:
                wait_for_port(self.port, 15)
            except TimeoutError:
                raise AssertionError(f"mosquitto did not start: {log.read_text()[-800:]}") from None
            yield self
        finally:
            _stop(proc)


@dataclass
class Proxy:
    """nginx with deploy/proxy/default.conf.template rendered as the nginx image does
    (envsubst of HTTPS_PORT), the upstreams, listeners and certificate paths moved to
    loopback and temporary paths, inside a minimal main configuration."""

    root: Path
    certs: Path
    api: str  # host:port of the API
    grafana: str  # host:port standing in for Grafana
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)

    def site_text(self) -> str:
        site = PROXY_TEMPLATE.read_text().replace("${HTTPS_PORT}", str(self.https_port))
        replacements = {
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{self.https_port} ssl;",
            "http://api:8000": f"http://{self.api}",
            "http://grafana:3000": f"http://{self.grafana}",
            "/certs/": f"{self.certs}/",
        }
        for old, new in replacements.items():
            assert old in site, f"{old!r} is no longer in {PROXY_TEMPLATE.name}"
            site = site.replace(old, new)
        return site

    def main_text(self) -> str:
        temp = self.root / "temp"
        return (
            f"pid {self.root}/nginx.pid;\n"
            f"error_log {self.root}/error.log warn;\n"
            "daemon off;\n"
            "worker_processes 1;\n"
            "events { worker_connections 64; }\n"
            "http {\n"
            f"  access_log {self.root}/access.log;\n"
            f"  client_body_temp_path {temp}/body;\n"
            f"  proxy_temp_path {temp}/proxy;\n"
            f"  fastcgi_temp_path {temp}/fastcgi;\n"
            f"  uwsgi_temp_path {temp}/uwsgi;\n"
            f"  scgi_temp_path {temp}/scgi;\n"
            f"  include {self.root}/site.conf;\n"
            "}\n"
        )

    def write(self) -> Path:
        (self.root / "temp").mkdir(parents=True, exist_ok=True)
        (self.root / "site.conf").write_text(self.site_text())
        conf = self.root / "nginx.conf"
        conf.write_text(self.main_text())
        return conf

    def command(self, *args: str) -> list[str]:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        return [nginx, "-e", str(self.root / "error.log"), "-p", str(self.root), *args]

    def check(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t -c` on the rendered configuration."""
        conf = self.write()
        return subprocess.run(
            self.command("-t", "-c", str(conf)), capture_output=True, text=True, timeout=30
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[Proxy]:
        conf = self.write()
        proc = subprocess.Popen(
            self.command("-c", str(conf)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            try:
                wait_for_port(self.https_port, 15)
                wait_for_port(self.http_port, 15)
            except TimeoutError:
                proc.kill()
                _, err = proc.communicate(timeout=10)
                raise AssertionError(f"nginx did not start: {err.decode()[-800:]}") from None
            yield self
        finally:
            _stop(proc)


def nginx_missing() -> str | None:
    """Why the proxy tests cannot run here, or None."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "needs nginx (scripts/system-deps.sh installs nginx-light)"
    return None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
