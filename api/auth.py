"""Bearer tokens: 256-bit random secrets stored as SHA-256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import psycopg

Role = Literal["admin", "supervisor", "firm", "operator"]
ROLES: tuple[Role, ...] = ("admin", "supervisor", "firm", "operator")
TOKEN_PREFIX = "bw_"


@dataclass(frozen=True)
class Principal:
    token_id: int
    role: Role
    firm_id: str | None = None
    site_id: str | None = None

    @property
    def actor(self) -> str:
        """How audit trails name this caller."""
        scope = self.firm_id or self.site_id
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
) -> tuple[int, str]:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if (role == "firm") != (firm_id is not None):
        raise ValueError("a firm token needs --firm-id, and only a firm token takes one")
    if (role == "operator") != (site_id is not None):
        raise ValueError("an operator token needs --site-id, and only an operator token takes one")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = conn.execute(
        "INSERT INTO api_token (token_hash, role, firm_id, site_id, name) VALUES (%s, %s, %s, %s, %s)"
        " RETURNING id",
        (hash_token(token), role, firm_id, site_id, name),
    ).fetchone()
    assert row is not None
    return int(row[0]), token


def authenticate(conn: psycopg.Connection[Any], token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    row = conn.execute(
        "SELECT id, token_hash, role, firm_id, site_id FROM api_token"
        " WHERE token_hash = %s AND revoked_at IS NULL",
        (digest,),
    ).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[1]), digest):
        return None
    return Principal(token_id=row[0], role=row[2], firm_id=row[3], site_id=row[4])


def revoke_token(conn: psycopg.Connection[Any], token_id: int) -> bool:
    cur = conn.execute(
        "UPDATE api_token SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", (token_id,)
    )
    return cur.rowcount == 1
