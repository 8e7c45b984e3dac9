"""Which database failures are the database's (retry without limit) and which are the
data's (isolate the message that causes them)."""

from __future__ import annotations

import psycopg

# SQLSTATE classes of a server or connection in trouble, not of a value it refuses:
# 08 connection exception, 40 transaction rollback (serialization failure, deadlock),
# 53 insufficient resources, 57 operator intervention (shutdown, cancel), 58 system error
TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def is_transient(exc: BaseException) -> bool:
    """True when trying the same work again later may succeed: a lost or refused
    connection, a restarting server, a serialisation failure, a deadlock, a pool that
    lent no connection in time, a network error. False for everything the data causes
    (a value PostgreSQL refuses, a constraint, a bug that fails on one message)."""
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate
        if state is None:  # raised by the client: connection lost, pool timeout, closed
            return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
        return state[:2] in TRANSIENT_CLASSES
    return isinstance(exc, OSError)  # ConnectionError, TimeoutError, socket errors
