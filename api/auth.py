"""Bearer tokens: 256-bit random secrets stored as SHA-256, compared in constant time.

Revocation takes effect on the next request: every request authenticates with one query
that also checks `revoked_at`, and nothing is cached, in this process or any other.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

Role = Literal["admin", "supervisor", "firm", "operator"]
ROLES: tuple[Role, ...] = ("admin", "supervisor", "firm", "operator")
TOKEN_PREFIX = "bw_"


@dataclass(frozen=True)
class Principal:
    token_id: int
    role: Role
    firm_id: str | None = None
    site_id: str | None = None
    district: str | None = None  # a supervisor bound to one district

    @property
    def actor(self) -> str:
        """How audit trails name this caller."""
        scope = self.firm_id or self.site_id or self.district
        return f"{self.role}:{self.token_id}" + (f":{scope}" if scope else "")

    @property
    def scoped(self) -> bool:
        """Firm and operator tokens see only their own objects."""
        return self.role in ("firm", "operator")


def hash_token(token: str) -> bytes:
    # tokens are 256-bit random, so a fast hash is enough: there is nothing to brute-force
    return hashlib.sha256(token.encode()).digest()


def create_token(
    conn: psycopg.Connection[Any],
    role: str,
    firm_id: str | None = None,
    site_id: str | None = None,
    name: str = "",
    district: str | None = None,
) -> tuple[int, str]:
    """A new token (id, secret); the secret is shown once, only its hash is stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if (role == "firm") != (firm_id is not None):
        raise ValueError("a firm token needs --firm-id, and only a firm token takes one")
    if (role == "operator") != (site_id is not None):
        raise ValueError("an operator token needs --site-id, and only an operator token takes one")
    if district is not None and (role != "supervisor" or not 1 <= len(district) <= 100):
        raise ValueError("only a supervisor token takes --district (1 to 100 characters)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = conn.execute(
        "INSERT INTO api_token (token_hash, role, firm_id, site_id, name, district)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (hash_token(token), role, firm_id, site_id, name, district),
    ).fetchone()
    assert row is not None
    return int(row[0]), token


def authenticate(conn: psycopg.Connection[Any], token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    row = conn.execute(
        "SELECT id, token_hash, role, firm_id, site_id, district,"
        " last_used_at IS NULL OR last_used_at < now() - %s * interval '1 second'"
        " FROM api_token WHERE token_hash = %s AND revoked_at IS NULL",
        (LAST_USED_GRAIN_S, digest),
    ).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[1]), digest):
        return None
    if row[6]:
        _touch(conn, row[0])
    return Principal(token_id=row[0], role=row[2], firm_id=row[3], site_id=row[4], district=row[5])


# `last used` to the minute: one write a minute per token, not one per request (every
# request would otherwise write, and requests of one token would queue on its row lock)
LAST_USED_GRAIN_S = 60


def _touch(conn: psycopg.Connection[Any], token_id: int) -> None:
    """Record the use; skipped, never waited for, while another request holds the row."""
    conn.execute(
        "UPDATE api_token SET last_used_at = now() WHERE id = ("
        " SELECT id FROM api_token WHERE id = %s FOR UPDATE SKIP LOCKED)",
        (token_id,),
    )


@dataclass(frozen=True)
class TokenInfo:
    """A token as `token list` shows it (never the secret, which is not stored)."""

    id: int
    role: str
    firm_id: str | None
    site_id: str | None
    district: str | None
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def scope(self) -> str:
        """What the token is bound to: `firm:F`, `site:S`, `district:D`, or `city`."""
        for kind, value in (("firm", self.firm_id), ("site", self.site_id)):
            if value:
                return f"{kind}:{value}"
        return f"district:{self.district}" if self.district else "city"


def list_tokens(conn: psycopg.Connection[Any], include_revoked: bool = True) -> list[TokenInfo]:
    """Every token, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT id, role, firm_id, site_id, district, name, created_at, last_used_at,"
            " revoked_at FROM api_token WHERE %s OR revoked_at IS NULL ORDER BY id",
            (include_revoked,),
        ).fetchall()
    return [TokenInfo(**r) for r in rows]


def revoke_token(conn: psycopg.Connection[Any], token_id: int) -> bool:
    """Revoke a token; False when it does not exist or was revoked already."""
    cur = conn.execute(
        "UPDATE api_token SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", (token_id,)
    )
    return cur.rowcount == 1


def token_exists(conn: psycopg.Connection[Any], token_id: int) -> bool:
    return conn.execute("SELECT 1 FROM api_token WHERE id = %s", (token_id,)).fetchone() is not None


def record_audit(
    conn: psycopg.Connection[Any],
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any] | None = None,
) -> None:
    """One row of the audit trail (audit_log), in the caller's transaction, so the record
    and the change it describes commit together."""
    conn.execute(
        "INSERT INTO audit_log (actor, action, object_type, object_id, details)"
        " VALUES (%s, %s, %s, %s, %s)",
        (actor, action, object_type, object_id, Jsonb(details or {})),
    )
