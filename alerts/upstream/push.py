"""The upstream outbox: export windows queued in `upstream_outbox` and POSTed to the
upstream platform's endpoint, each by exactly one pusher.

A pusher claims due rows one at a time with FOR UPDATE SKIP LOCKED (`alerts.due.claim_due`)
and holds the row's lock while it POSTs, so two replicas never send the same row at once;
a delivered row is never due again. Every POST carries `Idempotency-Key: <row id>` so a
receiver can drop a repeat (a pusher that dies after the receiver answered but before its
commit sends the row again). 5xx, 408, 429 and connection errors are retried with
exponential backoff; after `max_attempts` the row is a dead letter (`dead_at`,
`dead_reason`). Any other answer outside 2xx is a refusal that retrying cannot change:
the row is a dead letter at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb

from brightwatch.alerts.due import claim_due
from brightwatch.alerts.upstream.settings import UpstreamSettings

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({408, 429})

DUE = (
    "SELECT id FROM upstream_outbox WHERE delivered_at IS NULL AND dead_at IS NULL"
    " AND next_attempt_at <= %s ORDER BY next_attempt_at, id LIMIT %s"
)
CLAIM = (
    "SELECT id, payload, attempts FROM upstream_outbox WHERE id = %s"
    " AND delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= %s"
    " FOR UPDATE SKIP LOCKED"
)


def enqueue(
    conn: psycopg.Connection[Any], kind: str, envelope: dict[str, Any], at: datetime
) -> int:
    """Queue one export envelope, due at once; returns the row id (the idempotency key)."""
    window = envelope["window"]
    row = conn.execute(
        "INSERT INTO upstream_outbox (kind, format, window_since, window_until, payload,"
        " created_at, next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (kind, envelope["format"], window["since"], window["until"], Jsonb(envelope), at, at),
    ).fetchone()
    assert row is not None
    return int(row[0])


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `timestamp.body` (the receiver recomputes it)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(settings: UpstreamSettings, row_id: int, body: bytes, now: datetime) -> dict[str, str]:
    """The request headers: JSON, the idempotency key and the configured authentication."""
    out = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": str(row_id)}
    if settings.token is not None:
        out["Authorization"] = "Bearer " + settings.token.get_secret_value()
    if settings.hmac_secret is not None:
        ts = str(int(now.timestamp()))
        out["X-Brightwatch-Timestamp"] = ts
        out["X-Brightwatch-Signature"] = signature(
            settings.hmac_secret.get_secret_value(), ts, body
        )
    return out


@dataclass(frozen=True)
class Attempt:
    """One POST's result: delivered, or an error and whether retrying may help."""

    status: int | None
    error: str | None
    retry: bool

    @property
    def delivered(self) -> bool:
        return self.error is None


def post(client: httpx.Client, url: str, body: bytes, hdrs: dict[str, str]) -> Attempt:
    try:
        r = client.post(url, content=body, headers=hdrs)
    except httpx.HTTPError as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:500], True)
    if 200 <= r.status_code < 300:
        return Attempt(r.status_code, None, False)
    error = f"HTTP {r.status_code}: {r.text[:200]}"
    return Attempt(r.status_code, error, r.status_code >= 500 or r.status_code in RETRY_STATUS)


class Pusher:
    """Drains the upstream outbox; `step` is one round, safe to run on every replica."""

    def __init__(
        self,
        settings: UpstreamSettings,
        clock: Callable[[], datetime],
        client: httpx.Client | None = None,
    ) -> None:
        if not settings.url:
            raise ValueError("alerts.upstream.url is not set")
        self.settings = settings
        self.url = settings.url
        self.clock = clock
        self.client = client or httpx.Client(timeout=settings.timeout_s)

    def delay(self, attempts: int) -> timedelta:
        """Backoff before attempt `attempts + 1`: base * 2^(attempts-1), capped."""
        s = self.settings
        return timedelta(seconds=min(s.backoff_base_s * 2 ** max(attempts - 1, 0), s.backoff_max_s))

    def _send(self, conn: psycopg.Connection[Any], row: Sequence[Any]) -> int:
        row_id, payload, attempts = int(row[0]), row[1], int(row[2]) + 1
        now = self.clock()
        body = json.dumps(payload, ensure_ascii=False).encode()
        result = post(self.client, self.url, body, headers(self.settings, row_id, body, now))
        if result.delivered:
            conn.execute(
                "UPDATE upstream_outbox SET delivered_at = %s, attempts = %s, last_status = %s,"
                " last_error = NULL WHERE id = %s",
                (now, attempts, result.status, row_id),
            )
            return 1
        if not result.retry or attempts >= self.settings.max_attempts:
            reason = result.error if not result.retry else f"gave up after {attempts} attempts"
            conn.execute(
                "UPDATE upstream_outbox SET dead_at = %s, dead_reason = %s, attempts = %s,"
                " last_status = %s, last_error = %s WHERE id = %s",
                (now, reason, attempts, result.status, result.error, row_id),
            )
            log.warning("upstream row %d is a dead letter: %s", row_id, result.error)
            return 0
        conn.execute(
            "UPDATE upstream_outbox SET attempts = %s, last_status = %s, last_error = %s,"
            " next_attempt_at = %s WHERE id = %s",
            (attempts, result.status, result.error, now + self.delay(attempts), row_id),
        )
        return 0

    def step(self, conn: psycopg.Connection[Any]) -> int:
        """Try every due row once (a batch); returns how many were delivered."""
        now = self.clock()
        return claim_due(
            conn, DUE, (now, self.settings.batch), CLAIM, (now,), lambda row: self._send(conn, row)
        )

    def close(self) -> None:
        self.client.close()


def pending(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows waiting, delivered and dead (the command's summary)."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL),"
        " count(*) FILTER (WHERE delivered_at IS NOT NULL), count(*) FILTER (WHERE dead_at IS NOT NULL)"
        " FROM upstream_outbox"
    ).fetchone()
    assert row is not None
    return {"waiting": int(row[0]), "delivered": int(row[1]), "dead": int(row[2])}
