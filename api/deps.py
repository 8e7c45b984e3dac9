"""Request dependencies: the database pool, the caller, role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, HTTPException, Request
from psycopg_pool import ConnectionPool

from api.auth import Principal, authenticate

NOT_FOUND = "not found"


def pool(request: Request) -> ConnectionPool:
    return request.app.state.pool


def connection(request: Request) -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection; commits when the handler returns, rolls back on error."""
    with request.app.state.pool.connection() as conn:
        yield conn


Conn = Annotated[psycopg.Connection[Any], Depends(connection)]


def principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    with request.app.state.pool.connection() as conn:
        who = authenticate(conn, token.strip())
    if who is None:
        raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = who
    return who


Caller = Annotated[Principal, Depends(principal)]


def require(*roles: str) -> Callable[[Principal], Principal]:
    """Only these roles; a firm or operator token gets 404 (existence is not revealed)."""

    def check(who: Caller) -> Principal:
        if who.role not in roles:
            if who.scoped:
                raise HTTPException(404, NOT_FOUND)
            raise HTTPException(403, f"role {who.role} may not do this")
        return who

    return check


def not_found() -> HTTPException:
    return HTTPException(404, NOT_FOUND)
