"""`brightwatch broker-config`: Mosquitto's password and ACL files from the device registry.

quality.md, Security: per-device credentials and ACLs, anonymous access off, a device
publishes only under its own id. The ACL is derived from the contract's topic table
(`contract.topics.TOPICS`: every topic, who publishes it, who reads it), the same table
the publishers build their topics from, so the broker lets through exactly what the
service and the devices publish and nothing else:

- elevator terminal `elevator/<elevator_id>`: writes `<root>/elevators/<elevator_id>/<channel>`
- camera agent `camera/<site_id>/<camera_id>`: writes
  `<root>/kitchens/<site_id>/cameras/<camera_id>/<channel>`
- a kitchen's operator `operator/<site_id>`: reads `<root>/notices/<site_id>`
- one user per service component (`service/<name>`), with the reads and writes of its
  role in the table and nothing else.

Passwords are kept between runs (the credentials file is read back, so re-running after
registering new devices does not lock the old ones out); a service's password comes from
the environment (`MQTT_<NAME>_PASSWORD`, as in `.env`) when set. Hashes are Mosquitto's
PBKDF2-SHA512 format (`$7$`), the one `mosquitto_passwd` writes, computed here so the
broker host needs no extra tool.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import logging
import os
import secrets
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from brightwatch.cli import main, settings_from_env
from brightwatch.contract.topics import Role, grants

log = logging.getLogger(__name__)

PASSWORD_FILE = "passwd"
ACL_FILE = "acl"
CREDENTIALS_FILE = "credentials.csv"
# mosquitto_passwd's defaults (mosquitto 2.x): 101 iterations, 12-byte salt
PBKDF2_ITERATIONS = 101
SALT_BYTES = 12


@dataclass(frozen=True)
class BrokerUser:
    username: str
    kind: str  # elevator, camera, operator, service
    device: str  # elevator_id, site_id/camera_id, site_id, or the service name
    rules: tuple[tuple[str, str], ...]  # (access, topic filter) with access read|write|readwrite


# service component -> its role in the topic table (None: it publishes and reads no topic)
SERVICES: tuple[tuple[str, Role | None], ...] = (
    ("ingest", Role.INGEST),  # stores what devices publish
    ("rules", Role.RULES),  # elevator fault rules
    ("vision", Role.VISION),  # frames and edge detections
    ("alerts", Role.ALERTS),  # outbox relay (alerts, tickets) and the MQTT notification channel
    ("api", Role.API),  # the HTTP app: /healthz and its live alert stream's wake-up calls
    ("integrator", Role.INTEGRATOR),  # upstream platforms consume alerts and tickets
    ("health", None),  # the container health check
)
# topics of the broker itself, outside the contract's root
BROKER_TOPICS: dict[str, tuple[tuple[str, str], ...]] = {
    "health": (("read", "$SYS/broker/uptime"),),
}


def rules_of(root: str, role: Role, **scope: str) -> tuple[tuple[str, str], ...]:
    """Mosquitto ACL rules for a role of the topic table, scoped to its own ids."""
    access = {(True, False): "write", (False, True): "read", (True, True): "readwrite"}
    return tuple((access[pub, read], f) for f, pub, read in grants(root, role, **scope))


def service_users(root: str) -> list[BrokerUser]:
    """The service components' users: what each reads and writes (contract.topics.TOPICS)."""
    return [
        BrokerUser(
            f"service/{name}",
            "service",
            name,
            (rules_of(root, role) if role else ()) + BROKER_TOPICS.get(name, ()),
        )
        for name, role in SERVICES
    ]


def device_users(
    root: str, elevators: Iterable[str], cameras: Iterable[tuple[str, str]]
) -> list[BrokerUser]:
    users = [
        BrokerUser(f"elevator/{e}", "elevator", e, rules_of(root, Role.ELEVATOR, elevator_id=e))
        for e in elevators
    ]
    users += [
        BrokerUser(
            f"camera/{s}/{c}",
            "camera",
            f"{s}/{c}",
            rules_of(root, Role.CAMERA, site_id=s, camera_id=c),
        )
        for s, c in cameras
    ]
    return users


def operator_users(root: str, kitchens: Iterable[str]) -> list[BrokerUser]:
    """One read user per kitchen: its operator's app or screen reads the site's notices."""
    return [
        BrokerUser(f"operator/{s}", "operator", s, rules_of(root, Role.OPERATOR, site_id=s))
        for s in kitchens
    ]


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Mosquitto's `$7$` hash: PBKDF2-HMAC-SHA512, base64 salt and digest."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    return (
        f"$7${PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}"
        f"${base64.b64encode(digest).decode()}"
    )


def new_password() -> str:
    # URL-safe, so it can sit in mqtt://user:password@host without escaping
    return secrets.token_urlsafe(24)


def acl_text(users: Iterable[BrokerUser]) -> str:
    lines = [
        "# Generated by `brightwatch broker-config` from the device registry and the",
        "# contract's topic table (contract.topics.TOPICS); do not edit. Anything not granted",
        "# here is refused (mosquitto denies by default once an acl_file is set): a device",
        "# publishes only under its own id, an operator reads only its own site's notices.",
        "",
    ]
    for u in users:
        lines.append(f"user {u.username}")
        lines += [f"topic {access} {topic}" for access, topic in u.rules]
        lines.append("")
    return "\n".join(lines)


def password_text(users: Iterable[BrokerUser], passwords: Mapping[str, str]) -> str:
    return "".join(f"{u.username}:{hash_password(passwords[u.username])}\n" for u in users)


def read_credentials(path: Path) -> dict[str, str]:
    """username -> password from a previous run (so devices keep their passwords)."""
    if not path.exists():
        return {}
    with path.open(newline="") as f:
        return {row["username"]: row["password"] for row in csv.DictReader(f) if row["password"]}


def credentials_text(users: Iterable[BrokerUser], passwords: Mapping[str, str]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["kind", "device", "username", "password"])
    for u in users:
        w.writerow([u.kind, u.device, u.username, passwords[u.username]])
    return out.getvalue()


def choose_passwords(
    users: Iterable[BrokerUser], previous: Mapping[str, str], env: Mapping[str, str]
) -> dict[str, str]:
    chosen = {}
    for u in users:
        from_env = env.get(f"MQTT_{u.device.upper()}_PASSWORD") if u.kind == "service" else None
        chosen[u.username] = from_env or previous.get(u.username) or new_password()
    return chosen


def _write_private(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


@dataclass(frozen=True)
class Registry:
    """What the broker needs to know of the registry: who may log in."""

    elevators: list[str]
    cameras: list[tuple[str, str]]  # (site_id, camera_id)
    kitchens: list[str]  # site_id of every kitchen (its operator's notices)


def load_registry(conn: Any) -> Registry:
    elevators = [r[0] for r in conn.execute("SELECT elevator_id FROM elevator ORDER BY 1")]
    cameras = [
        (r[0], r[1]) for r in conn.execute("SELECT site_id, camera_id FROM camera ORDER BY 1, 2")
    ]
    kitchens = [
        r[0] for r in conn.execute("SELECT site_id FROM site WHERE kind = 'kitchen' ORDER BY 1")
    ]
    return Registry(elevators, cameras, kitchens)


def write_broker_files(
    out: Path, root: str, registry: Registry, env: Mapping[str, str]
) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    users = (
        service_users(root)
        + device_users(root, registry.elevators, registry.cameras)
        + operator_users(root, registry.kitchens)
    )
    passwords = choose_passwords(users, read_credentials(out / CREDENTIALS_FILE), env)
    # the broker reads passwd and acl (it may run as another user: world-readable hashes
    # are what mosquitto_passwd leaves too); the clear-text credentials stay private
    _write_private(out / CREDENTIALS_FILE, credentials_text(users, passwords), 0o600)
    _write_private(out / PASSWORD_FILE, password_text(users, passwords), 0o644)
    _write_private(out / ACL_FILE, acl_text(users), 0o644)
    counts: dict[str, int] = {}
    for u in users:
        counts[u.kind] = counts.get(u.kind, 0) + 1
    return counts


@main.command("broker-config")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help=f"Folder for {PASSWORD_FILE}, {ACL_FILE} and {CREDENTIALS_FILE} (kept private).",
)
def broker_config(out: Path) -> None:
    """Write Mosquitto's password and ACL files for every registered device, kitchen
    operator and service.

    Re-run after registering devices or kitchens, then send the broker SIGHUP to reload them.
    """
    import psycopg

    settings = settings_from_env()
    try:
        with psycopg.connect(settings.database_url.get_secret_value()) as conn:
            registry = load_registry(conn)
    except psycopg.Error as exc:
        from brightwatch.logs import redact

        click.echo(f"error: cannot read the registry: {redact(str(exc)).strip()}", err=True)
        sys.exit(1)
    counts = write_broker_files(out, settings.topic_root, registry, os.environ)
    click.echo(
        f"wrote {out / PASSWORD_FILE}, {out / ACL_FILE}, {out / CREDENTIALS_FILE}: "
        + ", ".join(f"{n} {kind} users" for kind, n in counts.items())
    )
