-- Upstream reporting (issue 15): export windows queued for an upstream platform's HTTP
-- endpoint. A row is written by `brightwatch upstream enqueue` (its payload is the whole
-- export envelope, fixed when queued), claimed FOR UPDATE SKIP LOCKED by one pusher at a
-- time (replicas never send a row twice), retried with backoff, and set aside as a dead
-- letter (dead_at, dead_reason) after the last attempt or on a refusal (4xx).
CREATE TABLE upstream_outbox (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('elevators', 'kitchens')),
    format           text NOT NULL,                 -- the envelope's format, e.g. brightwatch.kitchens/1
    window_since     timestamptz NOT NULL,
    window_until     timestamptz NOT NULL,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    last_status      integer,                       -- the receiver's last HTTP status
    last_error       text,
    delivered_at     timestamptz,
    dead_at          timestamptz,
    dead_reason      text,
    CHECK (window_until > window_since)
);
CREATE INDEX upstream_outbox_due ON upstream_outbox (next_attempt_at, id)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
