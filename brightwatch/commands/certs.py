"""`brightwatch certs dev`: a local development CA and a server certificate for TLS.

quality.md, Security: nothing travels in clear text outside a host. The compose stack
serves MQTT on 8883 (mosquitto) and HTTPS on 443 (the reverse proxy in front of the API
and Grafana) with one server certificate; devices and services verify it against
`ca.crt` (BW_MQTT_CA_FILE). This command makes both for development and trials: a CA
that signs one server certificate naming every host the stack answers to (localhost,
the loopback addresses, the compose service names, plus `--host` values). A bureau in
production supplies its own `ca.crt`, `server.crt` and `server.key` instead (README).
An existing CA is never replaced silently (`--force`); `--renew` keeps it and issues a
new server certificate (a new name, or the old one expiring) that devices still trust.

The work is done by the `openssl` command line tool (the service's lock carries no X.509
library, and every host that runs the stack has openssl). Keys are RSA 2048: the TLS
stacks of older elevator terminals and cameras speak RSA where some lack ECDSA.
Private keys are written with mode 0600; everything is made in a private folder first
and moved into place, so an interrupted run leaves no half-written key or CA.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click

from brightwatch.cli import main

# names every compose service reaches the others by (compose.yaml), and the loopback
# names a developer's own machine uses
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1", "mosquitto", "proxy", "api", "grafana")
CA_DAYS = 3650
CA_FILES = ("ca.crt", "ca.key")
SERVER_FILES = ("server.crt", "server.key")
KEY_FILES = ("ca.key", "server.key")
# a DNS name or a wildcard one (`*.city.example`): letters, digits, dots and hyphens,
# so a value can never break out of the extension file it is written into
DNS_NAME = re.compile(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*")

_CONFIG = """\
[req]
distinguished_name = dn
prompt = no

[dn]
O = brightwatch
CN = brightwatch development CA

[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = @alt

[alt]
"""


class CertsError(Exception):
    """The certificates cannot be made (the message says why)."""


@dataclass(frozen=True)
class DevCerts:
    out: Path
    hosts: tuple[str, ...]
    days: int

    @property
    def files(self) -> dict[str, Path]:
        return {name: self.out / name for name in ("ca.crt", "ca.key", "server.crt", "server.key")}


def subject_alt_names(hosts: list[str] | tuple[str, ...]) -> list[str]:
    """`DNS.n = name` / `IP.n = address` lines, defaults first, duplicates dropped."""
    lines: list[str] = []
    seen: set[str] = set()
    dns = ip = 0
    for raw in (*DEFAULT_HOSTS, *hosts):
        host = raw.strip().lower()
        if not host or host in seen:
            continue
        seen.add(host)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if len(host) > 253 or not DNS_NAME.fullmatch(host):
                raise CertsError(f"not a host name or IP address: {raw!r}") from None
            dns += 1
            lines.append(f"DNS.{dns} = {host}")
        else:
            ip += 1
            lines.append(f"IP.{ip} = {address}")
    return lines


def _openssl(*args: str, cwd: Path) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        raise CertsError("the openssl command is needed (apt-get install openssl)")
    done = subprocess.run(
        [exe, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise CertsError(f"openssl {args[0]} failed: {done.stderr.strip()[-600:]}")


def make_dev_certs(
    out: Path,
    hosts: list[str] | tuple[str, ...] = (),
    days: int = 825,
    force: bool = False,
    renew: bool = False,
) -> DevCerts:
    """Write ca.crt, ca.key, server.crt and server.key into `out`.

    Refuses (CertsError) when `out` already holds a CA, unless `force`: devices that
    trust the old ca.crt would refuse a broker whose certificate the new CA signed.
    `renew`: keep the CA in `out` (its key is needed) and issue a new server
    certificate with it (new names, or the old one expiring); devices keep their ca.crt.
    """
    alt = subject_alt_names(hosts)
    out = Path(out)
    existing = [name for name in CA_FILES if (out / name).exists()]
    if renew and len(existing) < len(CA_FILES):
        raise CertsError(f"{out} holds no CA to renew with (needs ca.crt and ca.key)")
    if existing and not (force or renew):
        raise CertsError(
            f"{out} already holds a CA ({', '.join(existing)}); --renew issues a new server "
            "certificate with it, --force replaces it (every device and service must then "
            "be given the new ca.crt)"
        )
    out.mkdir(parents=True, exist_ok=True)
    result = DevCerts(out, tuple(line.split(" = ", 1)[1] for line in alt), days)
    written = SERVER_FILES if renew else CA_FILES + SERVER_FILES
    # a private folder beside the final files (same file system: the moves are atomic)
    with tempfile.TemporaryDirectory(prefix=".certs-", dir=out) as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)
        (work / "openssl.cnf").write_text(_CONFIG + "\n".join(alt) + "\n")
        if renew:
            for name in CA_FILES:
                shutil.copyfile(out / name, work / name)
        else:
            _openssl(
                "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                "-out", "ca.key", cwd=work,
            )  # fmt: skip
            _openssl(
                "req", "-x509", "-new", "-config", "openssl.cnf", "-extensions", "ca_ext",
                "-key", "ca.key", "-sha256", "-days", str(max(CA_DAYS, days)),
                "-set_serial", _serial(), "-out", "ca.crt", cwd=work,
            )  # fmt: skip
        _openssl(
            "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
            "-out", "server.key", cwd=work,
        )  # fmt: skip
        _openssl(
            "req", "-new", "-config", "openssl.cnf", "-key", "server.key",
            "-subj", "/O=brightwatch/CN=brightwatch server", "-out", "server.csr", cwd=work,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-set_serial", _serial(), "-days", str(days), "-sha256",
            "-extfile", "openssl.cnf", "-extensions", "server_ext", "-out", "server.crt",
            cwd=work,
        )  # fmt: skip
        for name in written:
            os.chmod(work / name, 0o600 if name in KEY_FILES else 0o644)
            os.replace(work / name, out / name)
    return result


def _serial() -> str:
    # RFC 5280 4.1.2.2: positive, at most 20 octets; random so two CAs never collide
    return f"0x{secrets.randbits(120) | 1 << 119:x}"


@main.group()
def certs() -> None:
    """TLS certificates for the broker and the HTTPS proxy."""


@certs.command()
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write ca.crt, ca.key, server.crt and server.key into.",
)
@click.option(
    "--host",
    "hosts",
    multiple=True,
    help="Another name or IP address the server certificate must carry (repeatable), "
    "e.g. the public name devices connect to.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=825,
    show_default=True,
    help="Validity of the server certificate.",
)
@click.option("--force", is_flag=True, help="Replace a CA already in the folder.")
@click.option(
    "--renew",
    is_flag=True,
    help="Keep the folder's CA and issue a new server certificate with it (new --host "
    "names, or the old one expiring): devices keep their ca.crt.",
)
@click.option(
    "--if-missing",
    is_flag=True,
    help="Do nothing (exit 0) when the folder already holds a CA: for a start-up job "
    "that must keep certificates a bureau supplied.",
)
def dev(
    out: Path, hosts: tuple[str, ...], days: int, force: bool, renew: bool, if_missing: bool
) -> None:
    """A development CA and a server certificate (not for production: the CA key sits
    beside the certificates)."""
    if force and renew:
        raise click.UsageError("--force makes a new CA, --renew keeps it: choose one")
    if if_missing and not (force or renew) and (out / "ca.crt").exists():
        click.echo(f"{out / 'ca.crt'} exists: certificates kept")
        return
    try:
        made = make_dev_certs(out, hosts, days, force, renew)
    except (CertsError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for name, path in made.files.items():
        if renew and name in CA_FILES:
            click.echo(f"kept {path}")
        else:
            click.echo(f"wrote {path} ({path.stat().st_mode & 0o777:04o})")
    click.echo(f"server certificate valid {made.days} days for: {', '.join(made.hosts)}")
    click.echo(
        f"clients verify with {made.files['ca.crt']} (BW_MQTT_CA_FILE, devices' CA file); "
        "ca.key signs what they trust: keep it private"
    )
